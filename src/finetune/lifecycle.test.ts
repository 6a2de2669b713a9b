import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempPlatform, waitFor } from '../jobs/testing.ts';
import { SKETCH_TUNE_NOTE } from '../providers/pixel/adapter.ts';
import { LOCAL_TEAM } from '../server/auth.ts';
import { readDatasetFolder } from './folder.ts';
import { datasetFolder, startTestQueue } from './testing.ts';
import type { Finetune } from './types.ts';

const caller = { team: LOCAL_TEAM, role: 'member' as const };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function platformWithDataset(name = 'ube-cakes', category = 'bakery') {
  const env = await tempPlatform();
  cleanups.push(() => env.close());
  const queue = await startTestQueue(env.platform);
  cleanups.push(() => queue.stop());
  const dir = await datasetFolder(5);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { datasets, service } = env.platform.finetunes;
  const dataset = await datasets.createFromFiles({
    team: LOCAL_TEAM,
    name,
    category,
    source: 'folder:test',
    files: await readDatasetFolder(dir),
  });
  return { env, dataset, datasets, service, queue };
}

/** Waits until the job is succeeded, failed or cancelled (the queue's worker runs it). */
const finished = (service: { get(id: string): Promise<Finetune> }, id: string) =>
  waitFor(
    `fine-tune ${id} to finish`,
    async () => {
      const job = await service.get(id);
      return ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job : undefined;
    },
    { timeoutMs: 150_000, everyMs: 100 },
  );

describe('fine-tune lifecycle on pixel/sketch-tune', () => {
  it('runs on the queue: trains with progress, evaluates against pixel/sketch, promotes, serves ft/<name> with the trigger phrase', async () => {
    const env = await tempPlatform();
    cleanups.push(() => env.close());
    const seen: Array<{ state: string; progress: number }> = [];
    const queue = await startTestQueue(env.platform, {
      onStep: async (id) => {
        const row = await env.platform.finetunes.service.get(id);
        seen.push({ state: row.state, progress: row.progress });
      },
    });
    cleanups.push(() => queue.stop());
    const dir = await datasetFolder(5);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { datasets, service } = env.platform.finetunes;
    const dataset = await datasets.createFromFiles({
      team: LOCAL_TEAM,
      name: 'ube-cakes',
      category: 'bakery',
      source: 'folder:test',
      files: await readDatasetFolder(dir),
    });
    expect(dataset.images).toHaveLength(5);
    expect(dataset.images[0]!.caption).toBe('a ube cake on a grey counter');
    const job = await service.start({
      team: LOCAL_TEAM,
      dataset: 'ube-cakes',
      backend: 'sketch',
      base: 'pixel/sketch',
      trigger: 'TOK',
      classNoun: 'ube cake',
    });
    expect(job).toMatchObject({ state: 'queued', version: 1, name: 'ube-cakes', progress: 0 });
    await finished(service, job.id);
    // One queue step per transition: submit, four looks at the training, the evaluation.
    expect(seen).toEqual([
      { state: 'training', progress: 0 },
      { state: 'training', progress: 0.25 },
      { state: 'training', progress: 0.5 },
      { state: 'training', progress: 0.75 },
      { state: 'evaluating', progress: 1 },
      { state: 'succeeded', progress: 1 },
    ]);
    expect(queue.steps).toEqual(Array(6).fill(job.id));

    const done = await service.get(job.id);
    expect(done.weights?.kind).toBe('sketch-tune');
    expect(done.weights?.kind === 'sketch-tune' && done.weights.subjectColour).toBe('purple');
    expect(done.evaluation?.passed).toBe(true);
    expect(done.evaluation!.finetuneScore).toBeGreaterThan(done.evaluation!.baseScore + 0.2);
    expect(done.evaluation!.wins.finetune).toBeGreaterThan(done.evaluation!.wins.base);
    expect(done.evaluation!.pairwise!.winRate).toBeGreaterThan(0.5);
    expect(done.evaluation!.questions).toEqual([
      'Is the subject mostly purple?',
      'Is the background light grey?',
    ]);
    expect(done.promoted).toBe(true);

    const entry = env.platform.catalog.get('ft/ube-cakes');
    expect(entry).toMatchObject({ provider: 'pixel', transport: 'local' });
    expect(env.platform.available('ft/ube-cakes')).toBe(true);

    const result = await env.platform.images.generateAndStore(
      { model: 'ft/ube-cakes', prompt: 'a ube cake on a plate', seed: 3, width: 256, height: 256 },
      caller,
    );
    expect(result.model).toBe('ft/ube-cakes');
    const line = result.report.find((l) => l.param === 'prompt' && l.status === 'adjusted');
    expect(line).toMatchObject({
      requested: 'a ube cake on a plate',
      sent: 'a TOK ube cake on a plate',
      note: 'fine-tune ft/ube-cakes: trigger phrase "TOK ube cake" inserted',
    });
    expect(result.notes).toContain(SKETCH_TUNE_NOTE);
    expect(result.images[0]!.nativeRequest).toMatchObject({ prompt: 'a TOK ube cake on a plate' });
  }, 180_000);

  it('keeps a fine-tune that does not beat its base by the margin unpromoted, and promote refuses it', async () => {
    const { env, service } = await platformWithDataset();
    // 25 steps: the tune barely moves pixel/sketch's look towards the dataset.
    const job = await service.start({
      team: LOCAL_TEAM,
      dataset: 'ube-cakes',
      backend: 'sketch',
      base: 'pixel/sketch',
      trigger: 'TOK',
      classNoun: 'ube cake',
      steps: 25,
    });
    const done = await finished(service, job.id);
    expect(done.state).toBe('succeeded');
    expect(done.evaluation?.passed).toBe(false);
    expect(done.evaluation?.verdict).toMatch(/does not beat it by 20%, so it is not promoted/);
    expect(done.evaluation?.pairwise).toMatchObject({ judge: 'pixel/inspect', minWinRate: 0.5 });
    expect(done.promoted).toBe(false);
    expect(env.platform.catalog.get('ft/ube-cakes')).toBeUndefined();
    expect(env.platform.catalog.get('ft/ube-cakes/v1')).toBeDefined();
    expect(() => env.platform.catalog.resolve('ft/ube-cakes')).toThrow(/no version of it is promoted/);
    await expect(service.promote(job.id)).rejects.toMatchObject({ reason: 'evaluation_failed' });
    const forced = await service.promote(job.id, { force: true });
    expect(forced.promoted).toBe(true);
    expect(env.platform.catalog.get('ft/ube-cakes')).toBeDefined();
  }, 180_000);

  it('cancels a queued job at once; a job started where no queue was is queued by the next worker', async () => {
    const env = await tempPlatform();
    cleanups.push(() => env.close());
    const dir = await datasetFolder(3);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { datasets, service } = env.platform.finetunes;
    await datasets.createFromFiles({
      team: LOCAL_TEAM,
      name: 'ube-cakes',
      category: 'bakery',
      source: 'folder:test',
      files: await readDatasetFolder(dir),
    });
    // No job system in this process yet: both wait in the table.
    const start = () =>
      service.start({
        team: LOCAL_TEAM,
        dataset: 'ube-cakes',
        backend: 'sketch',
        base: 'pixel/sketch',
        trigger: 'TOK',
      });
    const dropped = await start();
    const kept = await start();
    const cancelled = await service.cancel(dropped.id);
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelRequested: true, weights: null });
    await expect(service.cancel(dropped.id)).rejects.toThrow(/already cancelled/);
    await expect(service.promote(dropped.id)).rejects.toThrow(/only a succeeded one can be promoted/);

    const queue = await startTestQueue(env.platform);
    cleanups.push(() => queue.stop());
    expect(await finished(service, kept.id)).toMatchObject({ state: 'succeeded', version: 2 });
    expect(queue.steps).not.toContain(dropped.id);
    expect(await service.get(dropped.id)).toMatchObject({ state: 'cancelled', progress: 0, external: null });
  }, 180_000);

  it('application routing uses the promoted fine-tune for the item category, else falls back with a report line', async () => {
    const { env, service } = await platformWithDataset('beef-cuts', 'beef');
    const request = { app: 'butcher-cuts', vars: { cut: 'ribeye steak', category: 'beef' }, seed: 1 };
    const before = await env.platform.images.generateAndStore(request, caller);
    expect(before.model).not.toBe('ft/beef-cuts');
    expect(
      before.report.find((l) => l.param === 'app.model' && l.requested === 'ft/beef-cuts')?.note,
    ).toMatch(/fine-tune ft\/beef-cuts for category "beef" is not in the catalogue/);

    await service.start({
      team: LOCAL_TEAM,
      dataset: 'beef-cuts',
      backend: 'sketch',
      base: 'pixel/sketch',
      trigger: 'TOK',
      classNoun: 'ribeye steak',
    });
    await finished(service, (await service.list())[0]!.id);
    const after = await env.platform.images.generateAndStore(request, caller);
    expect(after.model).toBe('ft/beef-cuts');
    expect(after.report.find((l) => l.param === 'app.model' && l.sent === 'ft/beef-cuts')?.note).toBe(
      'routed to fine-tune ft/beef-cuts for category "beef"',
    );
    expect(after.report.find((l) => l.param === 'prompt' && l.status === 'adjusted')?.sent).toMatch(
      /TOK ribeye steak/,
    );

    const pork = await env.platform.images.generateAndStore(
      { ...request, vars: { ...request.vars, category: 'pork' } },
      caller,
    );
    expect(pork.model).not.toMatch(/^ft\//);
  }, 180_000);

  it('refuses a start with an unknown backend, a bad trigger, a base the backend cannot tune, or no dataset', async () => {
    const { service } = await platformWithDataset();
    const base = {
      team: LOCAL_TEAM,
      dataset: 'ube-cakes',
      backend: 'sketch',
      base: 'pixel/sketch',
      trigger: 'TOK',
    };
    await expect(service.start({ ...base, backend: 'dreambooth' })).rejects.toMatchObject({
      field: 'backend',
    });
    await expect(service.start({ ...base, backend: 'replicate' })).rejects.toMatchObject({
      field: 'backend',
      reason: 'not_configured',
    });
    await expect(service.start({ ...base, trigger: 'a b' })).rejects.toMatchObject({ field: 'trigger' });
    await expect(service.start({ ...base, base: 'openai/gpt-image-1.5' })).rejects.toThrow(
      'the sketch backend cannot fine-tune openai/gpt-image-1.5',
    );
    await expect(service.start({ ...base, dataset: 'nope' })).rejects.toMatchObject({ code: 'not_found' });
  }, 180_000);
});
