import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startA1111Fake } from '../providers/a1111/fake.ts';
import type { FakeServer } from '../providers/testing/types.ts';
import { readLineage } from '../storage/lineage/index.ts';
import { startTestServer, type TestServer } from './test-support.ts';

// Nesting within the bound goes all the way through: sent to the provider, stored on the row, embedded in
// the image's lineage. Past the bound it is refused at validation, so the record can never fail for it.

let fake: FakeServer;
let t: TestServer;
beforeAll(async () => {
  fake = await startA1111Fake();
  t = await startTestServer({ env: { A1111_BASE_URL: fake.url, PIXEL_A1111_MAX_ATTEMPTS: '1' } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

const nested = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { args: [1, 'two', true] };
  for (let i = 1; i < levels; i++) value = { [`level${i}`]: value };
  return value;
};

async function generate(scripts: unknown) {
  const res = await fetch(`${t.url}/pixel.v1.ImageService/Generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'a1111/sdxl',
      prompt: 'a ribeye steak',
      width: 512,
      height: 512,
      providerOptions: { a1111: { alwayson_scripts: scripts } },
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('providerOptions nesting and the lineage record', () => {
  it('the deepest nesting allowed is sent, stored on the row and embedded in the image', async () => {
    // providerOptions → a1111 → alwayson_scripts → 4 more levels: 6 below providerOptions, the bound.
    const scripts = nested(4);
    const out = await generate(scripts);
    expect(out.status, JSON.stringify(out.body)).toBe(200);
    const image = (out.body.images as Array<{ id: string; url: string }>)[0]!;
    const sent = fake.requests.find((r) => r.path === '/sdapi/v1/txt2img')!.body as Record<string, unknown>;
    expect(sent.alwayson_scripts).toEqual(scripts);
    const row = await fetch(`${t.url}/pixel.v1.ImageService/GetImage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: image.id }),
    });
    const record = (await row.json()) as { nativeRequest: Record<string, unknown> };
    expect(record.nativeRequest.alwayson_scripts).toEqual(scripts);
    const file = await fetch(image.url);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const lineage = readLineage(bytes, file.headers.get('content-type') ?? 'image/png');
    expect(lineage.record?.id).toBe(image.id);
    expect(JSON.stringify(lineage.record?.params)).toContain('level3');
  });

  it('one level deeper is a 400 naming the field, before the provider is called', async () => {
    const before = fake.requests.length;
    const out = await generate(nested(5));
    expect(out.status).toBe(400);
    expect(String(out.body.message)).toMatch(/^providerOptions\.a1111\.alwayson_scripts\.level4/);
    expect(String(out.body.message)).toContain('providerOptions may nest at most 6 levels');
    expect(fake.requests.length).toBe(before);
  });
});
