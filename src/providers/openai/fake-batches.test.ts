import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIFake } from './fake.ts';
import { BATCH_INTERNAL_HEADER } from './fake-batches.ts';

let fake: Awaited<ReturnType<typeof startOpenAIFake>>;
let client: OpenAI;

beforeAll(async () => {
  fake = await startOpenAIFake();
  client = new OpenAI({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
});
afterAll(async () => {
  await fake.close();
});

const line = (id: string, prompt: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/images/generations',
    body: { model: 'gpt-image-1-mini', prompt, size: '1024x1024', quality: 'low' },
  });

async function follow(id: string) {
  for (let i = 0; i < 200; i++) {
    const batch = await client.batches.retrieve(id);
    if (['completed', 'expired', 'failed', 'cancelled'].includes(batch.status)) return batch;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('batch never finished');
}

describe('the OpenAI fake: Files and Batch API through the official SDK', () => {
  it('uploads a JSONL file, runs the batch to completed, and serves the output file', async () => {
    const file = await client.files.create({
      file: await toFile(Buffer.from(`${line('a', 'a pear')}\n${line('b', 'a plum')}\n`), 'in.jsonl'),
      purpose: 'batch',
    });
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', filename: 'in.jsonl' });
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/images/generations' as never,
      completion_window: '24h',
    });
    expect(created.status).toBe('validating');
    const done = await follow(created.id);
    expect(done).toMatchObject({
      status: 'completed',
      request_counts: { total: 2, completed: 2, failed: 0 },
    });
    expect(done.error_file_id).toBeNull();
    const output = await (await client.files.content(done.output_file_id!)).text();
    const results = output
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(results.map((r) => r.custom_id).sort()).toEqual(['a', 'b']);
    expect(results[0].response.status_code).toBe(200);
    expect(results[0].response.body.data[0].b64_json.length).toBeGreaterThan(100);
    // The batch's requests are marked, so direct calls can be counted apart.
    expect(fake.requests.filter((r) => r.headers[BATCH_INTERNAL_HEADER] === '1')).toHaveLength(2);
  });

  it('a batch that expires: the unfinished requests are in the error file as batch_expired', async () => {
    const file = await client.files.create({
      file: await toFile(
        Buffer.from([line('1', 'one'), line('2', 'two'), line('3', 'three')].join('\n')),
        'x.jsonl',
      ),
      purpose: 'batch',
    });
    fake.batches.expireNextAfter(1);
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/images/generations' as never,
      completion_window: '24h',
    });
    const done = await follow(created.id);
    expect(done.status).toBe('expired');
    expect(done.request_counts).toEqual({ total: 3, completed: 1, failed: 0 });
    const errors = (await (await client.files.content(done.error_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(errors.map((e) => [e.custom_id, e.error.code])).toEqual([
      ['2', 'batch_expired'],
      ['3', 'batch_expired'],
    ]);
  });

  it('refuses what the real API refuses', async () => {
    await expect(
      client.batches.create({
        input_file_id: 'file-nope',
        endpoint: '/v1/images/generations' as never,
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 404 });
    const file = await client.files.create({
      file: await toFile(Buffer.from(line('a', 'x')), 'a.jsonl'),
      purpose: 'batch',
    });
    await expect(
      client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/images/generations' as never,
        completion_window: '48h' as never,
      }),
    ).rejects.toMatchObject({ status: 400, param: 'completion_window' });
    await expect(client.batches.retrieve('batch_nope')).rejects.toMatchObject({ status: 404 });
    const bad = new OpenAI({ apiKey: 'sk-wrong-key-000', baseURL: fake.url, maxRetries: 0 });
    await expect(bad.batches.retrieve('batch_x')).rejects.toMatchObject({ status: 401 });
  });
});
