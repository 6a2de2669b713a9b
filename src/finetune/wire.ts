import type { Db } from '../catalog/db.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { configError, isSet } from '../platform/config.ts';
import { createPixelAdapter } from '../providers/pixel/adapter.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { buildJudge, envConnections } from '../quality/gate/judge-factory.ts';
import { createInspectJudge } from '../quality/inspect/inspect.ts';
import type { BlobStore } from '../storage/types.ts';
import { falTrainingFromEnv } from './backends/fal.ts';
import { createImportBackend } from './backends/import.ts';
import { replicateTrainingFromEnv } from './backends/replicate.ts';
import { selfHostedTrainingFromEnv } from './backends/self-hosted.ts';
import { createSketchTuneBackend } from './backends/sketch.ts';
import type { TrainingBackend } from './backends/types.ts';
import { captionerFromEnv } from './captions.ts';
import { FinetuneDatasets } from './datasets.ts';
import type { FinetuneRegistry } from './registry.ts';
import { FinetuneRepo } from './repo.ts';
import { FinetuneService } from './service.ts';
import { type BackendName, INSTANT_BACKENDS } from './types.ts';

/**
 * The adapters with fine-tune inference routes added: `pixel/sketch-tune` models are drawn by pixel/sketch
 * in their learned look; every other call goes to the adapter as it was.
 */
export function withFinetuneAdapters(
  adapters: ReadonlyMap<ProviderName, ProviderAdapter>,
  registry: FinetuneRegistry,
): Map<ProviderName, ProviderAdapter> {
  const out = new Map(adapters);
  const pixel = adapters.get('pixel');
  if (pixel) {
    const tuned = createPixelAdapter({ tuneFor: (id) => registry.tuneFor(id) });
    out.set('pixel', {
      name: 'pixel',
      generate: (call) => (registry.tuneFor(call.model.id) ? tuned.generate(call) : pixel.generate(call)),
    });
  }
  return out;
}

/** The training backends this host has: the offline one and `import` always; Replicate when its token and owner are set; fal when FAL_KEY is set; the self-hosted contract when its URL is set. */
export function finetuneBackendsFromEnv(env: NodeJS.ProcessEnv): Map<BackendName, TrainingBackend> {
  const backends = new Map<BackendName, TrainingBackend>([
    ['sketch', createSketchTuneBackend()],
    ['import', createImportBackend()],
  ]);
  const replicate = replicateTrainingFromEnv(env);
  if (replicate) backends.set('replicate', replicate);
  const fal = falTrainingFromEnv(env);
  if (fal) backends.set('fal', fal);
  const selfHosted = selfHostedTrainingFromEnv(env);
  if (selfHosted) backends.set('self-hosted', selfHosted);
  return backends;
}

export interface FinetunePlatform {
  registry: FinetuneRegistry;
  datasets: FinetuneDatasets;
  service: FinetuneService;
}

/** Datasets, the registry loaded from the table, and the job service, on an open database and store. */
export async function composeFinetunes(deps: {
  db: Db;
  store: BlobStore;
  registry: FinetuneRegistry;
  catalog: Catalog;
  adapter: (provider: ProviderName) => ProviderAdapter | undefined;
  env: NodeJS.ProcessEnv;
  clock?: Clock;
  backends?: ReadonlyMap<BackendName, TrainingBackend>;
}): Promise<FinetunePlatform> {
  await deps.registry.refresh(new FinetuneRepo(deps.db));
  const datasets = new FinetuneDatasets({
    db: deps.db,
    store: deps.store,
    captioner: () => captionerFromEnv(deps.env),
  });
  const margin = envNumber(deps.env, 'PIXEL_FINETUNE_MARGIN', 0, 1);
  const minWinRate = envNumber(deps.env, 'PIXEL_FINETUNE_MIN_WIN_RATE', 0, 1);
  // How often a running training is looked at (ms; the offline sketch backend is looked at at once).
  const pollMs = envNumber(deps.env, 'PIXEL_FINETUNE_POLL_MS', 0, 3_600_000);
  const service = new FinetuneService({
    db: deps.db,
    datasets,
    registry: deps.registry,
    catalog: deps.catalog,
    adapter: deps.adapter,
    backends: deps.backends ?? finetuneBackendsFromEnv(deps.env),
    // The evaluation's judge (default pixel/inspect); it also compares each pair of images where it can.
    judge: deps.env.PIXEL_FINETUNE_JUDGE?.trim()
      ? buildJudge(deps.env.PIXEL_FINETUNE_JUDGE, envConnections(deps.env), 'PIXEL_FINETUNE_JUDGE')
      : createInspectJudge(),
    ...(deps.clock && { clock: deps.clock }),
    ...(margin !== undefined && { margin }),
    ...(minWinRate !== undefined && { minWinRate }),
    ...(pollMs !== undefined && {
      pollMs: (backend: BackendName) => (INSTANT_BACKENDS.has(backend) ? 0 : pollMs),
    }),
  });
  return { registry: deps.registry, datasets, service };
}

/** A numeric setting from the environment: undefined when unset, refused naming the variable when out of range. */
function envNumber(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (!isSet(raw)) return undefined;
  const value = Number(raw.trim());
  if (!(value >= min && value <= max))
    throw configError(name, `must be a number from ${min} to ${max}, got "${raw}"`);
  return value;
}
