import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support.ts';

// Hostile and careless input on the REST and Connect surfaces: random JSON shapes and types, strings
// with control characters, NULs and lone surrogates, sizes at and past every bound. The bar: no crash,
// no 5xx, and every 400/429 names the field at fault. Seeded and count-bounded, so a run is repeatable
// and its cost fixed (CASES requests, a few milliseconds each, most refused at validation).

const SEED = 20_261_202;
const CASES = 700;

let t: TestServer;
const previousLimit = process.env.PIXEL_MAX_PIXELS_PER_REQUEST;
beforeAll(async () => {
  // Valid requests are rendered for real: keep each under ~1 MP so the budget holds on a slow machine.
  process.env.PIXEL_MAX_PIXELS_PER_REQUEST = String(1024 * 1024);
  t = await startTestServer();
}, 60_000);
afterAll(async () => {
  await t?.stop();
  if (previousLimit === undefined) delete process.env.PIXEL_MAX_PIXELS_PER_REQUEST;
  else process.env.PIXEL_MAX_PIXELS_PER_REQUEST = previousLimit;
});

const FIELDS = [
  'model',
  'prompt',
  'negativePrompt',
  'width',
  'height',
  'aspectRatio',
  'fit',
  'cfgScale',
  'style',
  'quality',
  'steps',
  'seed',
  'n',
  'format',
  'background',
  'providerOptions',
  'onUnsupported',
  'app',
  'vars',
  'appLabel',
  'appVersion',
  'size',
  'response_format',
  'negative_prompt',
  'cfg_scale',
  'provider_options',
];

/** Strings a careless or hostile client sends: control characters, NUL, lone surrogates, long runs. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udc00y', '\u202e', '\u001b[31m', '\r\n', '🥩', ''),
  fc.constantFrom('pixel/sketch', 'produce', 'butcher-cuts', '16:9', '1:0', '0:0', '1024x1024', 'x', 'url'),
  fc.integer({ min: 1, max: 40_000 }).map((n) => 'a'.repeat(n)),
);
const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1, 7, 16, 17, 63, 64, 512, 1024, 8192, 8193, 2 ** 31, 2 ** 32, 1e308, -0),
);
/** Nested values, sometimes deep, sometimes wide. */
const nastyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    nastyString,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nastyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const deepValue = fc.integer({ min: 5, max: 800 }).map((depth) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { k: value };
  return value;
});

/** Objects shaped like a request: known field names (and strangers) with values of any type. */
const requestLike = fc.dictionary(
  fc.oneof(fc.constantFrom(...FIELDS), nastyString),
  fc.oneof(nastyValue, deepValue, nastyString, nastyNumber),
  { maxKeys: 8 },
);
const body = fc.oneof(
  { weight: 24, arbitrary: requestLike.map((v) => JSON.stringify(v)) },
  { weight: 4, arbitrary: nastyValue.map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  {
    weight: 4,
    arbitrary: deepValue.map((v) => JSON.stringify({ prompt: 'x', providerOptions: { pixel: v } })),
  },
  // Bodies past the 1 MB limit.
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1_000_000, max: 1_300_000 })
      .map((size) => JSON.stringify({ prompt: 'p'.repeat(size) })),
  },
  // Nesting far past any stack, as text (a JSON.stringify of it would overflow here first).
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom('providerOptions', 'vars', 'prompt', 'n'),
        fc.integer({ min: 1000, max: 100_000 }),
      )
      .map(([field, depth]) => `{"prompt":"x","${field}":${'['.repeat(depth)}${']'.repeat(depth)}}`),
  },
);

const TARGETS = [
  '/v1/images/generations',
  '/pixel.v1.ImageService/Generate',
  '/pixel.v1.ModelService/TranslatePreview',
  '/pixel.v1.ApplicationService/GetApplication',
  '/pixel.v1.ApplicationService/PreviewApplication',
  '/pixel.v1.ApplicationService/UpdateApplication',
] as const;

const appBody = fc.oneof(
  requestLike.map((r) => JSON.stringify({ name: 'produce', vars: r, request: r })),
  fc.record({ name: nastyString, yaml: nastyString }).map((v) => JSON.stringify(v)),
  fc.record({ name: fc.constant('produce'), json: requestLike }).map((v) => JSON.stringify(v)),
);

/** A 4xx names the field: REST in `error.param`; Connect in Pixel's ErrorDetail (`field`). */
function namesField(path: string, status: number, text: string): boolean {
  let json:
    | {
        error?: { param?: string | null; message?: string };
        message?: string;
        details?: Array<{ debug?: { field?: string } }>;
      }
    | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    return false;
  }
  if (path.startsWith('/v1/')) return typeof json?.error?.param === 'string' && json.error.param.length > 0;
  const message = json?.message ?? '';
  if (status !== 400 && status !== 429) return message.length > 0;
  const field = json?.details?.[0]?.debug?.field;
  return typeof field === 'string' && field.length > 0;
}

describe('fuzz: REST and Connect surfaces', () => {
  it(`${CASES} seeded cases: no crash, no 5xx, every 400 and 429 names a field`, {
    timeout: 120_000,
  }, async () => {
    const seen = { cases: 0, byStatus: new Map<number, number>() };
    const bad: string[] = [];
    const target = fc.oneof(
      fc.tuple(fc.constantFrom(...TARGETS.slice(0, 3)), body),
      fc.tuple(fc.constantFrom(...TARGETS.slice(3)), appBody),
    );
    await fc.assert(
      fc.asyncProperty(target, async ([path, payload]) => {
        seen.cases++;
        const res = await fetch(`${t.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: payload,
        });
        const text = await res.text();
        seen.byStatus.set(res.status, (seen.byStatus.get(res.status) ?? 0) + 1);
        const line = `${res.status} ${path} ${payload.slice(0, 200)} → ${text.slice(0, 300)}`;
        if (res.status >= 500) bad.push(line);
        else if (res.status >= 400 && !namesField(path, res.status, text)) bad.push(line);
        return true;
      }),
      { seed: SEED, numRuns: CASES, endOnFailure: true },
    );
    // The server is still up and answering.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    console.log(
      `fuzz: ${seen.cases} cases, status counts ${JSON.stringify(Object.fromEntries(seen.byStatus))}`,
    );
    expect(bad, bad.slice(0, 10).join('\n')).toEqual([]);
  });
});
