import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempPlatform } from '../jobs/testing.ts';
import { SKETCH_TUNE_NOTE } from '../providers/pixel/adapter.ts';
import { LOCAL_TEAM } from '../server/auth.ts';
import { readDatasetFolder } from './folder.ts';
import { datasetFolder } from './testing.ts';

const caller = { team: LOCAL_TEAM, role: 'member' as const };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function platformWithDataset(name = 'ube-cakes', category = 'bakery') {
  const env = await tempPlatform();
  cleanups.push(() => env.close());
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
  return { env, dataset, datasets, service };
}

describe('fine-tune lifecycle on pixel/sketch-tune', () => {
  it('trains, evaluates against pixel/sketch, promotes, and serves ft/<name> with the trigger phrase', async () => {
    const { env, dataset, service } = await platformWithDataset();
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

    const seen: string[] = [];
    const progress: number[] = [];
    for (let i = 0; i < 20; i++) {
      const current = await service.get(job.id);
      seen.push(current.state);
      progress.push(current.progress);
      if (current.state === 'succeeded') break;
      await service.step(current);
    }
    expect([...new Set(seen)]).toEqual(['queued', 'training', 'evaluating', 'succeeded']);
    expect(progress.filter((_p, i) => seen[i] === 'training')).toEqual([0, 0.25, 0.5, 0.75]);

    const done = await service.get(job.id);
    expect(done.weights?.kind).toBe('sketch-tune');
    expect(done.weights?.kind === 'sketch-tune' && done.weights.subjectColour).toBe('purple');
    expect(done.evaluation?.passed).toBe(true);
    expect(done.evaluation!.finetuneScore).toBeGreaterThan(done.evaluation!.baseScore + 0.2);
    expect(done.evaluation!.wins.finetune).toBeGreaterThan(done.evaluation!.wins.base);
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
  });

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
    expect(await service.runUntilIdle({ maxTicks: 10 })).toBe(0);
    const done = await service.get(job.id);
    expect(done.state).toBe('succeeded');
    expect(done.evaluation?.passed).toBe(false);
    expect(done.evaluation?.verdict).toMatch(/does not beat it by 20%, so it is not promoted/);
    expect(done.promoted).toBe(false);
    expect(env.platform.catalog.get('ft/ube-cakes')).toBeUndefined();
    expect(env.platform.catalog.get('ft/ube-cakes/v1')).toBeDefined();
    expect(() => env.platform.catalog.resolve('ft/ube-cakes')).toThrow(/no version of it is promoted/);
    await expect(service.promote(job.id)).rejects.toMatchObject({ reason: 'evaluation_failed' });
    const forced = await service.promote(job.id, { force: true });
    expect(forced.promoted).toBe(true);
    expect(env.platform.catalog.get('ft/ube-cakes')).toBeDefined();
  });

  it('cancels a training in progress', async () => {
    const { service } = await platformWithDataset();
    const job = await service.start({
      team: LOCAL_TEAM,
      dataset: 'ube-cakes',
      backend: 'sketch',
      base: 'pixel/sketch',
      trigger: 'TOK',
    });
    await service.tick();
    await service.tick();
    expect((await service.get(job.id)).state).toBe('training');
    await service.cancel(job.id);
    await service.tick();
    const cancelled = await service.get(job.id);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.weights).toBeNull();
    await expect(service.cancel(job.id)).rejects.toThrow(/already cancelled/);
    await expect(service.promote(job.id)).rejects.toThrow(/only a succeeded one can be promoted/);
  });

  it('a restart during training loses nothing: a new platform on the same data carries on', async () => {
    const first = await platformWithDataset();
    const job = await first.service.start({
      team: LOCAL_TEAM,
      dataset: 'ube-cakes',
      backend: 'sketch',
      base: 'pixel/sketch',
      trigger: 'TOK',
      classNoun: 'ube cake',
    });
    await first.service.tick();
    await first.service.tick();
    expect(await first.service.get(job.id)).toMatchObject({ state: 'training', progress: 0.25 });
    await first.env.platform.close();

    const { composePlatform } = await import('../platform/compose.ts');
    const { platformConfigFromEnv } = await import('../platform/config.ts');
    const env = { PIXEL_DATA_DIR: first.env.dir };
    const again = await composePlatform(platformConfigFromEnv(env), { env });
    cleanups.push(() => again.close());
    expect(await again.finetunes.service.get(job.id)).toMatchObject({ state: 'training', progress: 0.25 });
    expect(await again.finetunes.service.runUntilIdle({ maxTicks: 10 })).toBe(0);
    const done = await again.finetunes.service.get(job.id);
    expect(done).toMatchObject({ state: 'succeeded', promoted: true, progress: 1 });
    expect(done.external).toMatchObject({ stepsDone: 1000 });
    expect(again.catalog.get('ft/ube-cakes')).toBeDefined();
  });

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
    expect(await service.runUntilIdle({ maxTicks: 10 })).toBe(0);
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
  });

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
  });
});
