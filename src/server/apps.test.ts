import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

const rpc = async (method: string, body: unknown) => {
  const res = await fetch(`${t.url}/pixel.v1.${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('applications on the running server', () => {
  it('lists the shipped applications (loaded as versions at start)', async () => {
    const { status, body } = await rpc('ApplicationService/ListApplications', {});
    expect(status).toBe(200);
    const names = (body.applications as Array<{ name: string }>).map((a) => a.name).sort();
    expect(names).toEqual([
      'butcher-cuts',
      'lifestyle-carousel',
      'packaged-goods',
      'prepared-foods',
      'produce',
    ]);
  });

  it('previews the rendered prompt and native request without storing anything', async () => {
    const { status, body } = await rpc('ApplicationService/PreviewApplication', {
      name: 'butcher-cuts',
      vars: { cut: 'ribeye steak' },
      request: { model: 'pixel/sketch', seed: 3 },
    });
    expect(status).toBe(200);
    expect(JSON.stringify(body)).toContain('ribeye steak');
    const list = await rpc('ImageService/ListImages', { pageSize: 10 });
    expect(list.body.images ?? []).toHaveLength(0);
  });

  it('generates through Connect with app + vars and records the application version on the image', async () => {
    const { status, body } = await rpc('ImageService/Generate', {
      app: 'butcher-cuts',
      vars: { cut: 'pork chop' },
      model: 'pixel/sketch',
      width: 256,
      height: 256,
    });
    expect(status).toBe(200);
    const image = (body.images as Array<Record<string, unknown>>)[0]!;
    expect(image.application).toBe('butcher-cuts');
    expect(Number(image.appVersion)).toBeGreaterThanOrEqual(1);
    expect(String(image.prompt)).toContain('pork chop');
    const again = await rpc('ImageService/GetImage', { id: image.id });
    expect(again.body).toMatchObject({ application: 'butcher-cuts', id: image.id });
  });

  it('names every missing variable', async () => {
    const { status, body } = await rpc('ImageService/Generate', {
      app: 'butcher-cuts',
      vars: {},
      model: 'pixel/sketch',
    });
    expect(status).toBe(400);
    expect(String(body.message)).toMatch(/cut/);
  });
});
