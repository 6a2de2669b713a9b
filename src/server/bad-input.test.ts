import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderName } from '../models/schema.ts';
import { createAdapters } from '../providers/registry.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { startTestServer, type TestServer } from './test-support.ts';

// Bad input is refused at validation: no provider call, no blob, no row, and a 400 naming the field.

let t: TestServer;
let providerCalls = 0;
beforeAll(async () => {
  const adapters = new Map<ProviderName, ProviderAdapter>();
  for (const [name, adapter] of createAdapters({})) {
    adapters.set(name, {
      name,
      generate: (call) => {
        providerCalls++;
        return adapter.generate(call);
      },
    });
  }
  t = await startTestServer({ deps: { adapters } });
});
afterAll(async () => {
  await t?.stop();
});
beforeEach(() => {
  providerCalls = 0;
});

const post = (path: string, body: string) =>
  fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

/** Every file under the blob store's key space (the staging area of spare files is not blobs). */
function blobCount(): number {
  let count = 0;
  const walk = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else count++;
    }
  };
  walk(join(t.dataDir, 'blobs', 'images'));
  return count;
}

async function rowCount(): Promise<number> {
  const res = await post('/pixel.v1.ImageService/ListImages', JSON.stringify({ pageSize: 100 }));
  const body = (await res.json()) as { images?: unknown[] };
  return body.images?.length ?? 0;
}

/** JSON text with a lone surrogate or NUL spelled as an escape, as a hostile client would send it. */
const escaped = (template: Record<string, unknown>, placeholder: string, spelled: string) =>
  JSON.stringify(template).replaceAll(placeholder, spelled);

interface Refusal {
  status: number;
  field: string | undefined;
  message: string;
}

async function rest(body: string): Promise<Refusal> {
  const res = await post('/v1/images/generations', body);
  const json = (await res.json()) as { error: { message: string; param?: string | null } };
  return { status: res.status, field: json.error.param ?? undefined, message: json.error.message };
}

async function connect(path: string, body: string): Promise<Refusal> {
  const res = await post(path, body);
  const json = (await res.json()) as { code: string; message: string };
  // The field leads the message ("prompt: …"), for clients that ignore error details.
  return { status: res.status, field: /^([^\s:]+):/.exec(json.message)?.[1], message: json.message };
}

describe('NUL and lone surrogates are refused before any work', () => {
  const cases: Array<{ name: string; spelled: string }> = [
    { name: 'NUL', spelled: '\\u0000' },
    { name: 'lone high surrogate', spelled: '\\ud83e' },
    { name: 'lone low surrogate', spelled: '\\udc00' },
  ];
  for (const { name, spelled } of cases) {
    it(`REST: ${name} in prompt → 400 naming prompt, nothing generated or stored`, async () => {
      const before = { blobs: blobCount(), rows: await rowCount() };
      const out = await rest(
        escaped({ model: 'pixel/sketch', prompt: 'two @ lemons', size: '256x256' }, '@', spelled),
      );
      expect(out.status).toBe(400);
      expect(out.message).toMatch(/prompt .*(NUL|surrogate)/);
      expect(providerCalls).toBe(0);
      expect({ blobs: blobCount(), rows: await rowCount() }).toEqual(before);
    });

    it(`Connect: ${name} in negative prompt, vars and providerOptions → 400 naming the field`, async () => {
      const before = { blobs: blobCount(), rows: await rowCount() };
      const gen = '/pixel.v1.ImageService/Generate';
      const negative = await connect(gen, escaped({ prompt: 'lemons', negativePrompt: 'x@y' }, '@', spelled));
      expect(negative.status).toBe(400);
      // protobuf-es refuses a lone surrogate itself while decoding, naming the proto field.
      expect(negative.message).toMatch(/(negativePrompt .*(NUL|surrogate))|negative_prompt.*invalid UTF8/);
      const vars = await connect(gen, escaped({ app: 'produce', vars: { item: 'apple@' } }, '@', spelled));
      expect(vars.status).toBe(400);
      expect(vars.message).toMatch(/(vars\.item .*(NUL|surrogate))|vars.*invalid UTF8/);
      const options = await connect(
        gen,
        escaped({ prompt: 'lemons', providerOptions: { pixel: { note: 'a@' } } }, '@', spelled),
      );
      expect(options.status).toBe(400);
      expect(options.message).toMatch(
        /(providerOptions\.pixel\.note .*(NUL|surrogate))|provider_options.*invalid UTF8/,
      );
      const preview = await connect(
        '/pixel.v1.ModelService/TranslatePreview',
        escaped({ prompt: 'lemons@' }, '@', spelled),
      );
      expect(preview.status).toBe(400);
      expect(preview.message).toMatch(/(prompt .*(NUL|surrogate))|prompt.*invalid UTF8/);
      expect(providerCalls).toBe(0);
      expect({ blobs: blobCount(), rows: await rowCount() }).toEqual(before);
    });
  }

  it('an application profile with NUL in a field is refused naming the field, no version made', async () => {
    const got = await post(
      '/pixel.v1.ApplicationService/GetApplication',
      JSON.stringify({ name: 'produce' }),
    );
    const app = (await got.json()) as { profile: Record<string, unknown>; version?: { version?: number } };
    const profile = { ...app.profile, title: 'Produce @' };
    const out = await connect(
      '/pixel.v1.ApplicationService/UpdateApplication',
      JSON.stringify({ name: 'produce', json: profile, label: 'team:local' }).replace('@', '\\u0000'),
    );
    expect(out.status).toBe(400);
    expect(out.message).toMatch(/profile\.title .*NUL/);
    const versions = await post(
      '/pixel.v1.ApplicationService/ListApplicationVersions',
      JSON.stringify({ name: 'produce' }),
    );
    expect(((await versions.json()) as { versions: unknown[] }).versions).toHaveLength(1);
  });
});

describe('every RPC refuses NUL before its handler (PostgreSQL text cannot hold one)', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['/pixel.v1.ApplicationService/GetApplication', { name: 'pro@duce' }, /^name .*NUL/],
    ['/pixel.v1.ImageService/GetImage', { id: 'img_@' }, /^id .*NUL/],
    ['/pixel.v1.ImageService/ListImages', { application: '@' }, /^application .*NUL/],
    ['/pixel.v1.ModelService/GetModel', { id: 'pixel/@' }, /^id .*NUL/],
  ];
  for (const [path, body, message] of cases) {
    it(`${path} → 400 naming the field, not a 500 from the database`, async () => {
      const out = await connect(path, JSON.stringify(body).replace('@', '\\u0000'));
      expect(out.status).toBe(400);
      expect(out.message).toMatch(message);
    });
  }
});

describe('the per-request pixel budget is enforced before any work', () => {
  it('REST size 8192x8192 with n 16 → 429 resource_exhausted naming n, nothing rendered or stored', async () => {
    const before = { blobs: blobCount(), rows: await rowCount() };
    const res = await post(
      '/v1/images/generations',
      JSON.stringify({ model: 'pixel/sketch', prompt: 'lemons', size: '8192x8192', n: 16 }),
    );
    const body = (await res.json()) as { error: { message: string; param: string | null } };
    expect(res.status).toBe(429);
    expect(body.error.param).toBe('n');
    expect(body.error.message).toContain('16 × 8192 × 8192');
    const viaConnect = await connect(
      '/pixel.v1.ImageService/Generate',
      JSON.stringify({ prompt: 'lemons', width: 8192, height: 8192, n: 2 }),
    );
    expect(viaConnect.status).toBe(429);
    expect(viaConnect.message).toMatch(/^n × width × height is 2 × 8192 × 8192/);
    expect(providerCalls).toBe(0);
    expect({ blobs: blobCount(), rows: await rowCount() }).toEqual(before);
  });
});

describe('nesting in providerOptions is bounded at validation', () => {
  it('a deeply nested providerOptions value is a 400 naming the field (REST and Connect), nothing stored', async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 50; i++) deep = { k: deep };
    const before = { blobs: blobCount(), rows: await rowCount() };
    const body = { model: 'pixel/sketch', prompt: 'lemons', providerOptions: { pixel: { x: deep } } };
    const viaRest = await rest(JSON.stringify({ ...body, size: '256x256' }));
    expect(viaRest.status).toBe(400);
    expect(viaRest.message).toMatch(/providerOptions may nest at most/);
    const viaConnect = await connect('/pixel.v1.ImageService/Generate', JSON.stringify(body));
    expect(viaConnect.status).toBe(400);
    expect(viaConnect.message).toMatch(/providerOptions may nest at most/);
    expect(providerCalls).toBe(0);
    expect({ blobs: blobCount(), rows: await rowCount() }).toEqual(before);
  });
});

describe('an application YAML the parser refuses is a 400, not a 500', () => {
  const update = (yaml: string) =>
    connect(
      '/pixel.v1.ApplicationService/UpdateApplication',
      JSON.stringify({ name: 'produce', yaml, label: 'team:local' }),
    );

  it('billion laughs (alias expansion)', async () => {
    const lines = ['name: produce', 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) {
      const prev = `*a${i - 1}`;
      lines.push(`a${i}: &a${i} [${Array(9).fill(prev).join(', ')}]`);
    }
    const out = await update(lines.join('\n'));
    expect(out.status).toBe(400);
    expect(out.field ?? out.message).toMatch(/yaml/);
    expect(out.message).toMatch(/alias/);
  });

  it('nesting deeper than the parser can follow', async () => {
    const out = await update(`name: produce\nx: ${'['.repeat(20_000)}${']'.repeat(20_000)}`);
    expect(out.status).toBe(400);
    expect(out.message).toMatch(/yaml|YAML|nested/);
  });
});
