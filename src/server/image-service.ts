import { createHash } from 'node:crypto';
import type { ApplicationResolver } from '../apps/apply.ts';
import type { Db } from '../catalog/db.ts';
import { IdempotencyStore } from '../catalog/idempotency.ts';
import { newImageId } from '../catalog/ids.ts';
import { type Fence, ImageWriter } from '../catalog/image-writer.ts';
import { type ImageRecord, ImageRepo, type ListImagesOptions } from '../catalog/images.ts';
import { type GenerateOutcome, generate, type ProgressEvent } from '../generate/generate.ts';
import type { InputImages } from '../generate/input-images.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import { type GenerateRequest, parseGenerateRequest } from '../protocol/request.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { checkPut } from '../storage/keys.ts';
import { embedLineage } from '../storage/lineage/index.ts';
import type { BlobStore, StoredBlob } from '../storage/types.ts';
import type { ReportLine } from '../translate/types.ts';
import { type PartialPlan, partialPlan } from './partial-plan.ts';

/** Who is asking: resolved from the API key (or the local anonymous caller of the embedded profile). */
export interface Caller {
  team: string;
  role: 'admin' | 'member' | 'viewer';
  keyId?: string;
}

export interface StoredImage extends ImageRecord {
  url: string;
}

export interface GenerateAndStoreResult {
  images: StoredImage[];
  report: ReportLine[];
  model: string;
  route: string;
  costEstimateUsd: number | null;
  notes: string[];
  replayed: boolean;
  /**
   * The stored bytes of each image (lineage embedded), parallel to `images`, when this call generated
   * them: a surface answering with the bytes (b64_json) uses these instead of reading the store back.
   * Absent on an idempotent replay.
   */
  bytes?: Uint8Array[];
}

export type ServiceProgress =
  | ProgressEvent
  | { stage: 'queued' }
  | { stage: 'stored'; count: number }
  /** The quality gate's judge is answering round `round`'s questions (src/quality). */
  | { stage: 'judging'; round: number; maxRounds: number; questions: number };

export interface ImageServiceDeps {
  db: Db;
  store: BlobStore;
  catalog: Catalog;
  adapter: (provider: ProviderName) => ProviderAdapter | undefined;
  defaultModel: string;
  /** Renders `app` + `vars` requests (the platform's applications: apps/*.yaml + versions). */
  applications: ApplicationResolver;
  /** Called once per stored image and per failure, for metrics. */
  observe?: (event: {
    outcome: 'ok' | 'error';
    model: string;
    provider: string;
    code?: string;
    bytes?: number;
    ms: number;
  }) => void;
}

/** What the idempotency record keeps: enough to answer a replay without generating again. */
interface IdempotentResponse {
  imageIds: string[];
  report: ReportLine[];
  model: string;
  route: string;
  costEstimateUsd: number | null;
  notes: string[];
}

/**
 * The use cases behind every surface (Connect, REST, CLI): generate and store with lineage,
 * get, list, delete. Surfaces only translate their wire shapes to these calls.
 */
export class ImageService {
  readonly #deps: ImageServiceDeps;
  readonly #images: ImageRepo;
  readonly #idempotency: IdempotencyStore;
  readonly #writer: ImageWriter;
  readonly #applications: ApplicationResolver;

  constructor(deps: ImageServiceDeps) {
    this.#deps = deps;
    this.#images = new ImageRepo(deps.db);
    this.#idempotency = new IdempotencyStore(deps.db);
    this.#writer = new ImageWriter(deps.db);
    this.#applications = deps.applications;
  }

  async generateAndStore(
    input: unknown,
    caller: Caller,
    options: {
      idempotencyKey?: string;
      signal?: AbortSignal;
      onProgress?: (event: ServiceProgress) => void;
      /** The surface's own report lines (request fields it took but does not pass on), ahead of translation's. */
      report?: ReportLine[];
      /** An edit: its input images, and the catalogue ids they are stored under (the first is the parent). */
      edit?: { inputs: InputImages; imageIds: string[] };
      /** Streaming: partial images of the first image to pass on as progress, where the model sends them. */
      partialImages?: number;
    } = {},
  ): Promise<GenerateAndStoreResult> {
    requireRole(caller, 'member');
    const request = parseGenerateRequest(input);
    const key = options.idempotencyKey;
    if (key !== undefined) {
      if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
        throw invalidArgument('idempotency_key', 'idempotency_key must be 1–255 visible ASCII characters');
      }
      const begun = await this.#idempotency.begin({
        team: caller.team,
        key,
        requestHash: hashRequest(
          options.edit ? ({ ...request, inputImages: options.edit.imageIds } as GenerateRequest) : request,
        ),
      });
      if (begun.state === 'replay') return this.#replay(begun.response as IdempotentResponse, caller);
      if (begun.state === 'in_progress') {
        throw new PixelError({
          code: 'aborted',
          reason: 'idempotency_in_progress',
          field: 'idempotency_key',
          message: 'a request with this idempotency key is still running; retry later to get its result',
        });
      }
    }
    options.onProgress?.({ stage: 'queued' });
    const started = performance.now();
    this.#deps.store.anticipatePut?.();
    try {
      // An application request goes in as sent: parsing filled defaults (n…) that must not beat the application's.
      const generated = await generate(
        request.app !== undefined ? input : request,
        {
          catalog: this.#deps.catalog,
          adapter: this.#deps.adapter,
          defaultModel: this.#deps.defaultModel,
          applications: this.#applications,
        },
        {
          signal: options.signal,
          onProgress: options.onProgress,
          team: caller.team,
          ...(options.edit && { inputs: options.edit.inputs }),
          ...(options.partialImages && { partialImages: options.partialImages }),
        },
      );
      const outcome = options.report?.length
        ? {
            ...generated,
            translation: {
              ...generated.translation,
              report: [...options.report, ...generated.translation.report],
            },
          }
        : generated;
      // With a key, the rows commit only together with the key's completion, and only while this attempt
      // still owns the key: a retry that took it over (this attempt's lease lapsed) cannot get a second
      // set of images committed next to the first, whichever of the two finishes first.
      const fence =
        key === undefined
          ? undefined
          : (imageIds: string[]): Fence =>
              async (tx) => {
                const saved: IdempotentResponse = {
                  imageIds,
                  report: outcome.translation.report,
                  model: outcome.translation.requestedModel,
                  route: outcome.route,
                  costEstimateUsd: outcome.translation.costEstimateUsd,
                  notes: outcome.notes,
                };
                if (!(await this.#idempotency.completeIn(tx, caller.team, key, saved))) throw takenOver();
              };
      const { images, bytes } = await this.#store(
        outcome,
        outcome.application ? outcome.translation.request : request,
        caller,
        key,
        options.edit?.imageIds,
        fence,
      );
      options.onProgress?.({ stage: 'stored', count: images.length });
      const result: GenerateAndStoreResult = {
        images,
        report: outcome.translation.report,
        model: outcome.translation.requestedModel,
        route: outcome.route,
        costEstimateUsd: outcome.translation.costEstimateUsd,
        notes: outcome.notes,
        replayed: false,
        bytes,
      };
      if (key !== undefined) this.#idempotency.settled(caller.team, key);
      const ms = performance.now() - started;
      for (const image of images) {
        this.#deps.observe?.({
          outcome: 'ok',
          model: image.route,
          provider: image.provider,
          bytes: image.byteSize,
          ms,
        });
      }
      return result;
    } catch (error) {
      if (key !== undefined) await this.#idempotency.abandon(caller.team, key).catch(() => {});
      const code = PixelError.isInstance(error) ? error.code : 'internal';
      this.#deps.observe?.({
        outcome: 'error',
        model: request.model ?? this.#deps.defaultModel,
        provider: '',
        code,
        ms: performance.now() - started,
      });
      throw error;
    }
  }

  /**
   * Blobs and rows side by side: the rows are inserted while the blobs are written, and committed only
   * once every blob is stored (ImageWriter), so a committed row never points at a missing blob. A blob
   * left behind by a failed request is harmless (content-addressed): the sweeper takes it.
   */
  async #store(
    outcome: GenerateOutcome,
    request: GenerateRequest,
    caller: Caller,
    key?: string,
    inputImageIds?: string[],
    fence?: (imageIds: string[]) => Fence,
  ): Promise<{ images: StoredImage[]; bytes: Uint8Array[] }> {
    const t = outcome.translation;
    const createdAt = new Date();
    const perImageMs = Math.round(outcome.latencyMs);
    const params = paramsOf(request, t.request.seed);
    if (inputImageIds !== undefined) params.inputImages = inputImageIds;
    const prepared = outcome.images.map((image) => {
      const id = newImageId();
      const call = t.calls[Math.min(t.calls.length - 1, callIndexOf(image.index, t.calls))]!;
      const imageParams = withSeedFacts(params, image);
      const lineage = {
        id,
        model: t.requestedModel,
        route: outcome.route,
        prompt: request.prompt,
        negativePrompt: request.negativePrompt,
        seed: image.seed,
        params: imageParams,
        createdAt: createdAt.toISOString(),
        generator: 'pixel',
        team: caller.team,
        ...(outcome.application && {
          application: { name: outcome.application.name, version: outcome.application.version },
        }),
      };
      const bytes = embedLineage(image.bytes, image.mediaType, lineage, {
        digitalSourceType: t.model.digitalSourceType ?? 'trainedAlgorithmicMedia',
      });
      return { id, image, call, imageParams, bytes, address: checkPut(bytes, image.mediaType) };
    });
    const stored = Promise.withResolvers<StoredBlob[]>();
    // The rows go out first (to the database's thread or server); the blobs are written meanwhile.
    const rows = this.#writer.write(
      prepared.map(({ id, image, call, imageParams, bytes, address }) => ({
        id,
        team: caller.team,
        application: outcome.application?.name ?? null,
        appVersion: outcome.application?.version ?? null,
        model: t.requestedModel,
        route: outcome.route,
        provider: t.model.provider,
        blobKey: address.key,
        sha256: address.sha256,
        byteSize: bytes.byteLength,
        mediaType: address.mediaType,
        width: image.width,
        height: image.height,
        prompt: request.prompt,
        negativePrompt: request.negativePrompt ?? null,
        seed: image.seed ?? null,
        params: imageParams,
        nativeRequest: call.body,
        report: t.report,
        costUsd: t.costEstimateUsd === null ? null : t.costEstimateUsd / Math.max(1, outcome.images.length),
        latencyMs: perImageMs,
        idempotencyKey: key ?? null,
        parentId: inputImageIds?.[0] ?? null,
        createdAt,
      })),
      stored.promise,
      fence?.(prepared.map((p) => p.id)),
    );
    stored.resolve(
      Promise.all(prepared.map((p) => this.#deps.store.put(p.bytes, { mediaType: p.address.mediaType }))),
    );
    const [records, blobs] = await Promise.all([rows, stored.promise]);
    return {
      images: records.map((record, i) => ({ ...record, url: blobs[i]!.url })),
      bytes: prepared.map((p) => p.bytes),
    };
  }

  async #replay(saved: IdempotentResponse, caller: Caller): Promise<GenerateAndStoreResult> {
    const images: StoredImage[] = [];
    for (const id of saved.imageIds) {
      const record = await this.#images.get(id, { team: caller.team, includeDeleted: true });
      if (record) images.push(await this.#withUrl(record));
    }
    return { ...saved, images, replayed: true };
  }

  /** What a stream asking for `asked` partial images of `model` (default: the server's) gets, with its report line. */
  partialPlan(asked: number, model: string | undefined): PartialPlan | undefined {
    return partialPlan(asked, model ?? this.#deps.defaultModel, this.#deps.catalog);
  }

  async get(id: string, caller: Caller): Promise<StoredImage> {
    requireRole(caller, 'viewer');
    const record = await this.#images.get(id, { team: caller.role === 'admin' ? undefined : caller.team });
    if (!record) throw new PixelError({ code: 'not_found', field: 'id', message: `image ${id} not found` });
    return this.#withUrl(record);
  }

  async list(
    options: ListImagesOptions,
    caller: Caller,
  ): Promise<{ images: StoredImage[]; nextCursor?: string }> {
    requireRole(caller, 'viewer');
    // Only admins may look at another team (or all teams); everyone else is pinned to their own.
    const team = caller.role === 'admin' ? options.team : caller.team;
    if (caller.role !== 'admin' && options.team !== undefined && options.team !== caller.team) {
      throw new PixelError({
        code: 'permission_denied',
        field: 'team',
        message: `you may list only team ${caller.team}'s images`,
      });
    }
    const result = await this.#images.list({ ...options, team });
    return {
      images: await Promise.all(result.images.map((r) => this.#withUrl(r))),
      nextCursor: result.nextCursor,
    };
  }

  /** A person chose this image (the playground's accept): recorded on the row, first acceptance kept. */
  async accept(id: string, caller: Caller): Promise<StoredImage> {
    requireRole(caller, 'member');
    const record = await this.#images.accept(id, {
      team: caller.role === 'admin' ? undefined : caller.team,
      by: caller.keyId ?? `anonymous@${caller.team}`,
    });
    if (!record) throw new PixelError({ code: 'not_found', field: 'id', message: `image ${id} not found` });
    return this.#withUrl(record);
  }

  async delete(id: string, caller: Caller): Promise<boolean> {
    requireRole(caller, 'member');
    const deleted = await this.#images.delete(id, {
      team: caller.role === 'admin' ? undefined : caller.team,
    });
    if (!deleted) throw new PixelError({ code: 'not_found', field: 'id', message: `image ${id} not found` });
    return true;
  }

  async #withUrl(record: ImageRecord, url?: string): Promise<StoredImage> {
    return { ...record, url: url ?? (await this.#deps.store.url(record.blobKey)) };
  }
}

const RANK = { viewer: 0, member: 1, admin: 2 } as const;

export function requireRole(caller: Caller, role: Caller['role']): void {
  if (RANK[caller.role] < RANK[role]) {
    throw new PixelError({
      code: 'permission_denied',
      reason: 'role',
      message: `this needs the ${role} role; your key has ${caller.role}`,
    });
  }
}

/** The unified parameters after defaults, as stored on the row (prompt and model have their own columns). */
/**
 * An image whose seed is its provider call's shared seed is not made again by that seed alone: its row and
 * lineage say so (`seedIndex`: its place in the call's images; `reproducible: false`).
 */
function withSeedFacts(
  params: Record<string, unknown>,
  image: { seedIndex?: number; reproducible?: boolean },
): Record<string, unknown> {
  if (image.seedIndex === undefined && image.reproducible !== false) return params;
  return {
    ...params,
    ...(image.seedIndex !== undefined && { seedIndex: image.seedIndex }),
    reproducible: image.reproducible ?? false,
  };
}

function paramsOf(request: GenerateRequest, seed: number | undefined): Record<string, unknown> {
  const { prompt: _p, model: _m, negativePrompt: _n, ...rest } = request;
  return seed === undefined ? rest : { ...rest, seed };
}

function callIndexOf(imageIndex: number, calls: ReadonlyArray<{ count: number }>): number {
  let seen = 0;
  for (let i = 0; i < calls.length; i++) {
    seen += calls[i]!.count;
    if (imageIndex < seen) return i;
  }
  return calls.length - 1;
}

/** The attempt lost its idempotency key to another attempt (its lease had lapsed): that one's result stands. */
function takenOver(): PixelError {
  return new PixelError({
    code: 'aborted',
    reason: 'idempotency_in_progress',
    field: 'idempotency_key',
    message:
      'another attempt with this idempotency key took it over while this one ran; retry later to get its result',
  });
}

/** A stable hash of the validated request: the same body in another key order is the same request. */
export function hashRequest(request: GenerateRequest): string {
  return createHash('sha256').update(stableJson(request)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
