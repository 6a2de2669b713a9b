import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract as a1111 } from '../providers/a1111/contract.ts';
import { startA1111Fake } from '../providers/a1111/fake.ts';
import { contract as bedrock } from '../providers/bedrock/contract.ts';
import { startBedrockFake } from '../providers/bedrock/fake.ts';
import { contract as bfl } from '../providers/bfl/contract.ts';
import { startBflFake } from '../providers/bfl/fake.ts';
import { contract as comfyui } from '../providers/comfyui/contract.ts';
import { startComfyUIFake } from '../providers/comfyui/fake.ts';
import { contract as fal } from '../providers/fal/contract.ts';
import { startFalFake } from '../providers/fal/fake.ts';
import { contract as google } from '../providers/google/contract.ts';
import { startGoogleFake } from '../providers/google/fake.ts';
import { contract as openai } from '../providers/openai/contract.ts';
import { startOpenAIFake } from '../providers/openai/fake.ts';
import { contract as replicate } from '../providers/replicate/contract.ts';
import { startReplicateFake } from '../providers/replicate/fake.ts';
import { contract as stability } from '../providers/stability/contract.ts';
import { startStabilityFake } from '../providers/stability/fake.ts';
import type { FakeServer } from '../providers/testing/types.ts';
import { contract as vertex } from '../providers/vertex/contract.ts';
import { startVertexFake } from '../providers/vertex/fake.ts';
import { startTestServer, type TestServer } from './test-support.ts';

// Every configured credential is redacted by value: each provider's fake repeats the credentials it was
// sent in a 401 and a 500 body, and neither the caller's error, nor a log line, nor a row may hold one.
// The values are shaped like nothing a pattern knows, as real proxy passwords and tokens often are.

const token = (prefix: string, bytes = 18) => `${prefix}${randomBytes(bytes).toString('hex')}`;
const SECRETS = {
  OPENAI_API_KEY: token('oaikey'),
  STABILITY_API_KEY: token('stabkey'),
  REPLICATE_API_TOKEN: token('reptok'),
  FAL_KEY: `${token('falid', 8)}:${token('falsecret')}`,
  BFL_API_KEY: token('bflkey'),
  GOOGLE_API_KEY: token('gkey'),
  GOOGLE_VERTEX_ACCESS_TOKEN: `ya29.${token('a0Ae', 30)}`,
  AWS_ACCESS_KEY_ID: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
  AWS_SECRET_ACCESS_KEY: token('awssecret', 20),
  AWS_SESSION_TOKEN: `IQoJb3JpZ2luX2Vj${randomBytes(40).toString('base64url')}`,
  A1111_PASSWORD: token('webuipw', 8),
  COMFYUI_API_KEY: token('comfykey'),
  PIXEL_ADMIN_KEY: token('adminkey'),
};
const A1111_USERNAME = 'pixel-ops';

/** The raw secrets and the forms they travel in (a Basic header, base64). */
const FORBIDDEN = Object.values(SECRETS).flatMap((value) => [value, Buffer.from(value).toString('base64')]);
FORBIDDEN.push(Buffer.from(`${A1111_USERNAME}:${SECRETS.A1111_PASSWORD}`).toString('base64'));

function leaked(text: string): string[] {
  return FORBIDDEN.filter((secret) => text.includes(secret));
}

const fakes = new Map<string, FakeServer>();
/** What each echo became for the caller (printed at the end, to see the redaction at work). */
const echoed: string[] = [];
let t: TestServer;

beforeAll(async () => {
  const [o, s, r, f, b, g, v, a, w, c] = await Promise.all([
    startOpenAIFake({ apiKey: SECRETS.OPENAI_API_KEY }),
    startStabilityFake({ apiKey: SECRETS.STABILITY_API_KEY }),
    startReplicateFake({ apiKey: SECRETS.REPLICATE_API_TOKEN }),
    startFalFake({ apiKey: SECRETS.FAL_KEY }),
    startBflFake({ apiKey: SECRETS.BFL_API_KEY }),
    startGoogleFake({ apiKey: SECRETS.GOOGLE_API_KEY }),
    startVertexFake({ accessToken: SECRETS.GOOGLE_VERTEX_ACCESS_TOKEN, project: 'pixel-test' }),
    startBedrockFake({
      accessKeyId: SECRETS.AWS_ACCESS_KEY_ID,
      secretAccessKey: SECRETS.AWS_SECRET_ACCESS_KEY,
    }),
    startA1111Fake({ auth: { username: A1111_USERNAME, password: SECRETS.A1111_PASSWORD } }),
    startComfyUIFake({ token: SECRETS.COMFYUI_API_KEY }),
  ]);
  const entries: Array<[string, FakeServer]> = [
    [openai.modelIds[0]!, o],
    [stability.modelIds[0]!, s],
    [replicate.modelIds[0]!, r],
    [fal.modelIds[0]!, f],
    [bfl.modelIds[0]!, b],
    [google.modelIds[0]!, g],
    [vertex.modelIds[0]!, v],
    [bedrock.modelIds[0]!, a],
    [a1111.modelIds[0]!, w],
    [comfyui.modelIds[0]!, c],
  ];
  for (const [model, fake] of entries) fakes.set(model, fake);
  const reliability: Record<string, string> = {};
  for (const p of [
    'OPENAI',
    'STABILITY',
    'REPLICATE',
    'FAL',
    'BFL',
    'GOOGLE',
    'VERTEX',
    'BEDROCK',
    'A1111',
    'COMFYUI',
  ]) {
    reliability[`PIXEL_${p}_MAX_ATTEMPTS`] = '1';
    reliability[`PIXEL_${p}_BREAKER_THRESHOLD`] = '1000';
  }
  t = await startTestServer({
    env: {
      ...SECRETS,
      ...reliability,
      OPENAI_BASE_URL: o.url,
      STABILITY_BASE_URL: s.url,
      REPLICATE_BASE_URL: r.url,
      FAL_QUEUE_BASE_URL: f.url,
      FAL_RUN_BASE_URL: (f as FakeServer & { runUrl: string }).runUrl,
      BFL_BASE_URL: b.url,
      GOOGLE_BASE_URL: g.url,
      GOOGLE_VERTEX_PROJECT: 'pixel-test',
      GOOGLE_VERTEX_BASE_URL: v.url,
      AWS_REGION: (a as FakeServer & { region: string }).region,
      BEDROCK_BASE_URL: a.url,
      A1111_BASE_URL: w.url,
      A1111_USERNAME,
      COMFYUI_BASE_URL: c.url,
      COMFYUI_PROGRESS: 'poll',
      PIXEL_LOG_LEVEL: 'debug',
    },
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await Promise.all([...fakes.values()].map((fake) => fake.close()));
});

const auth = () => ({ authorization: `Bearer ${SECRETS.PIXEL_ADMIN_KEY}` });

async function generate(body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${t.url}/pixel.v1.ImageService/Generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth() },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe('configured secrets echoed by a provider never leave Pixel', () => {
  const models = [openai, stability, replicate, fal, bfl, google, vertex, bedrock, a1111, comfyui].map(
    (c) => c.modelIds[0]!,
  );

  for (const model of models) {
    for (const status of [401, 500] as const) {
      it(`${model}: a ${status} repeating the credentials reaches the caller and the log redacted`, async () => {
        const fake = fakes.get(model)!;
        const logsBefore = t.logs.length;
        fake.reset();
        fake.inject({ kind: 'echo_credential', times: 1, status });
        const out = await generate({ model, prompt: 'a ribeye steak', width: 1024, height: 1024, seed: 1 });
        expect(fake.requests.length, 'the provider was called').toBeGreaterThan(0);
        expect(out.status, out.text).toBeGreaterThanOrEqual(400);
        echoed.push(`${model} ${status} → ${out.status}: ${JSON.parse(out.text).message}`);
        expect(leaked(out.text), out.text).toEqual([]);
        expect(leaked(t.logs.slice(logsBefore).join('\n'))).toEqual([]);
      });
    }
  }

  it('the REST surface answers the echo redacted too', async () => {
    const fake = fakes.get(openai.modelIds[0]!)!;
    fake.inject({ kind: 'echo_credential', times: 1, status: 401 });
    const res = await fetch(`${t.url}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify({ model: openai.modelIds[0], prompt: 'two lemons', size: '1024x1024' }),
    });
    const text = await res.text();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(text).toContain('[redacted]');
    expect(leaked(text)).toEqual([]);
  });

  it('a secret sent inside a request is not stored in the row', async () => {
    const out = await generate({
      model: openai.modelIds[0],
      prompt: `two lemons ${SECRETS.REPLICATE_API_TOKEN}`,
      width: 1024,
      height: 1024,
      providerOptions: { openai: { user: SECRETS.OPENAI_API_KEY } },
    });
    expect(out.status, out.text).toBe(200);
    const id = (JSON.parse(out.text) as { images: Array<{ id: string }> }).images[0]!.id;
    const got = await fetch(`${t.url}/pixel.v1.ImageService/GetImage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify({ id }),
    });
    const row = await got.text();
    expect(got.status).toBe(200);
    expect(row).toContain('[redacted]');
    expect(leaked(row), row).toEqual([]);
  });

  it('every log line of the run is clean', () => {
    if (process.env.PIXEL_TEST_VERBOSE) console.log(echoed.join('\n'));
    expect(leaked(t.logs.join('\n'))).toEqual([]);
    expect(leaked(t.notices.join('\n'))).toEqual([]);
  });
});
