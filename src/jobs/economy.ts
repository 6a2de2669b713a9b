import type { PgBoss } from 'pg-boss';
import sharp from 'sharp';
import type { ApplicationResolver } from '../apps/apply.ts';
import { BatchRunRepo, type CellKey, type RunRecord } from '../catalog/batch-runs.ts';
import { DatasetRepo } from '../catalog/datasets.ts';
import type { Db } from '../catalog/db.ts';
import { generate } from '../generate/generate.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { PixelError, redactSecrets } from '../protocol/errors.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../providers/types.ts';
import { ImageService } from '../server/image-service.ts';
import type { BlobStore } from '../storage/types.ts';
import { CELL_QUEUE, ECONOMY_QUEUE } from './boss.ts';
import { cellKey, cellRequest } from './cell-runner.ts';

/** OpenAI's Batch API bills at half the synchronous price. */
export const ECONOMY_PRICE_FACTOR = 0.5;
const TERMINAL = new Set(['completed', 'expired', 'failed', 'cancelled']);

export { ECONOMY_QUEUE };

export interface EconomyJob {
  runId: string;
  /** Absent: submit the run's pending cells; present: follow this provider batch. */
  batchId?: string;
}

export interface EconomyDeps {
  db: Db;
  boss: PgBoss;
  store: BlobStore;
  catalog: Catalog;
  applications: ApplicationResolver;
  defaultModel: string;
  clock: Clock;
  /** OpenAI's base URL (with /v1) and key; economy mode needs them. */
  openai: { baseUrl: string; apiKey: string } | undefined;
  /** How often a batch is polled (ms). */
  pollMs?: number;
}

/**
 * Economy mode: a production run sent through OpenAI's Batch API at half price. Submit: every pending cell's
 * native request (translated exactly as a direct call would be) becomes a line of a JSONL file, uploaded and
 * batched with a 24 h window; the cells are held by the batch meanwhile. Follow: the batch is polled until it
 * ends; each result is stored like any other image (same lineage, row and idempotency key per cell), its cost
 * at the batch price. Cells the batch did not finish (expired, failed, cancelled) go back to the direct queue.
 */
export class EconomyRunner {
  readonly #deps: EconomyDeps;
  readonly #runs: BatchRunRepo;
  readonly #datasets: DatasetRepo;

  constructor(deps: EconomyDeps) {
    this.#deps = deps;
    this.#runs = new BatchRunRepo(deps.db);
    this.#datasets = new DatasetRepo(deps.db);
  }

  /** One step of an economy job; returns the next job to schedule (and after how long), if any. */
  async step(job: EconomyJob): Promise<{ next: EconomyJob; afterMs: number } | undefined> {
    const run = await this.#runs.get(job.runId);
    if (job.batchId === undefined) {
      if (run.state !== 'running') return undefined;
      const batchId = await this.submit(run);
      return batchId ? { next: { runId: run.id, batchId }, afterMs: this.#deps.pollMs ?? 5_000 } : undefined;
    }
    const status = await this.#followOnce(run, job.batchId);
    return TERMINAL.has(status) ? undefined : { next: job, afterMs: this.#deps.pollMs ?? 5_000 };
  }

  async submit(run: RunRecord): Promise<string | undefined> {
    const openai = this.#api();
    const existing = await this.#deps.db.query('SELECT id FROM provider_batches WHERE run_id = $1', [run.id]);
    if (existing.length > 0) return undefined;
    const cells = await this.#runs.pendingCells(run.id);
    if (cells.length === 0) return undefined;
    const items = new Map(
      (await this.#datasets.itemsAt(run.datasetId, [...new Set(cells.map((c) => c.item))])).map((i) => [
        i.idx,
        i,
      ]),
    );
    const lines: string[] = [];
    const mapping: Record<string, [number, number]> = {};
    for (const cell of cells) {
      const item = items.get(cell.item);
      const candidate = run.candidates[cell.candidate];
      if (!item || !candidate) continue;
      const body = await this.#nativeBody(cellRequest(run, candidate, item), run.team);
      const customId = `${cell.item}.${cell.candidate}`;
      mapping[customId] = [cell.item, cell.candidate];
      lines.push(
        JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/images/generations', body }),
      );
    }
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('file', new Blob([`${lines.join('\n')}\n`], { type: 'application/jsonl' }), `${run.id}.jsonl`);
    const file = await call<{ id: string }>(openai, 'POST', '/files', form);
    const batch = await call<{ id: string; status: string }>(openai, 'POST', '/batches', {
      input_file_id: file.id,
      endpoint: '/v1/images/generations',
      completion_window: '24h',
      metadata: { pixel_run: run.id },
    });
    const now = this.#deps.clock.now();
    await this.#deps.db.query(
      `INSERT INTO provider_batches (id, run_id, provider, input_file_id, status, cells, created_ms)
       VALUES ($1, $2, 'openai', $3, $4, $5::jsonb, $6)`,
      [batch.id, run.id, file.id, batch.status, JSON.stringify(mapping), now],
    );
    // The batch holds these cells until it ends (a direct worker finds them running and leaves them).
    for (const [item, candidate] of Object.values(mapping)) {
      await this.#runs.claim(
        { runId: run.id, item, candidate },
        `batch:${batch.id}`,
        now,
        now + 25 * 3600 * 1000,
      );
    }
    return batch.id;
  }

  async #followOnce(run: RunRecord, batchId: string): Promise<string> {
    const openai = this.#api();
    const batch = await call<{ status: string; output_file_id: string | null; error_file_id: string | null }>(
      openai,
      'GET',
      `/batches/${encodeURIComponent(batchId)}`,
    );
    await this.#deps.db.query('UPDATE provider_batches SET status = $2 WHERE id = $1', [
      batchId,
      batch.status,
    ]);
    if (!TERMINAL.has(batch.status)) return batch.status;
    const rows = await this.#deps.db.query<{ cells: Record<string, [number, number]> | string }>(
      'SELECT cells FROM provider_batches WHERE id = $1',
      [batchId],
    );
    const raw = rows[0]?.cells ?? {};
    const mapping: Record<string, [number, number]> = typeof raw === 'string' ? JSON.parse(raw) : raw;
    const results = new Map<string, unknown>();
    if (batch.output_file_id) {
      const text = await call<string>(
        openai,
        'GET',
        `/files/${encodeURIComponent(batch.output_file_id)}/content`,
      );
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as {
          custom_id: string;
          response?: { status_code: number; body: unknown };
        };
        if (entry.response?.status_code === 200) results.set(entry.custom_id, entry.response.body);
      }
    }
    const owner = `batch:${batchId}`;
    const unfinished: Array<{ item: number; candidate: number; provider: string }> = [];
    const items = new Map(
      (await this.#datasets.itemsAt(run.datasetId, [...new Set(Object.values(mapping).map(([i]) => i))])).map(
        (i) => [i.idx, i],
      ),
    );
    for (const [customId, [item, candidate]] of Object.entries(mapping)) {
      const key: CellKey = { runId: run.id, item, candidate };
      const body = results.get(customId);
      const now = this.#deps.clock.now();
      if (body === undefined) {
        await this.#runs.release(
          key,
          owner,
          'pending',
          {
            code: 'deadline_exceeded',
            reason: `batch_${batch.status}`,
            message: `the provider batch ${batchId} ended ${batch.status} before this item; it goes the direct way`,
          },
          now,
        );
        unfinished.push({ item, candidate, provider: 'openai' });
        continue;
      }
      const stored = await this.#replayService(body).generateAndStore(
        cellRequest(run, run.candidates[candidate]!, items.get(item)!),
        { team: run.team, role: 'member' },
        { idempotencyKey: cellKey(key) },
      );
      const ids = stored.images.map((i) => i.id);
      if (!stored.replayed) {
        await this.#deps.db.query(
          'UPDATE images SET cost_usd = cost_usd * $2 WHERE id = ANY($1::text[]) AND cost_usd IS NOT NULL',
          [ids, ECONOMY_PRICE_FACTOR],
        );
      }
      const full = stored.images.reduce<number | null>(
        (sum, i) => (i.costUsd === null ? sum : (sum ?? 0) + i.costUsd),
        null,
      );
      await this.#runs.complete(
        key,
        owner,
        {
          imageIds: ids,
          costUsd: full === null ? null : stored.replayed ? full : full * ECONOMY_PRICE_FACTOR,
          latencyMs: 0,
          judgePass: null,
          via: 'openai_batch',
        },
        now,
      );
    }
    if (unfinished.length > 0) {
      await this.#deps.boss.insert(
        CELL_QUEUE,
        unfinished.map((c) => ({
          data: { runId: run.id, item: c.item, candidate: c.candidate },
          group: { id: c.provider, tier: c.provider },
        })),
      );
    }
    await this.#deps.db.query('UPDATE provider_batches SET finished_ms = $2 WHERE id = $1', [
      batchId,
      this.#deps.clock.now(),
    ]);
    await this.#runs.finishIfComplete(run.id, this.#deps.clock.now());
    return batch.status;
  }

  /** The native body a direct call would send, captured by running the pipeline up to the provider. */
  async #nativeBody(request: Record<string, unknown>, team: string): Promise<Record<string, unknown>> {
    let captured: ProviderCall | undefined;
    const capture: ProviderAdapter = {
      name: 'openai',
      async generate(c) {
        captured ??= c;
        throw new PixelError({ code: 'cancelled', retryable: false, message: 'captured' });
      },
    };
    await generate(
      request,
      {
        catalog: this.#deps.catalog,
        adapter: (p: ProviderName) => (p === 'openai' ? capture : undefined),
        defaultModel: this.#deps.defaultModel,
        applications: this.#deps.applications,
      },
      { team },
    ).catch(() => {});
    if (!captured) {
      throw new PixelError({
        code: 'failed_precondition',
        field: 'economy',
        message: 'economy mode needs a model served by OpenAI (its Batch API)',
      });
    }
    return captured.body;
  }

  /** An image service whose OpenAI "call" is the batch's answer: stored exactly as a direct result would be. */
  #replayService(body: unknown): ImageService {
    const replay: ProviderAdapter = {
      name: 'openai',
      async generate(): Promise<ProviderResult> {
        const data = (body as { data?: Array<{ b64_json?: string }> }).data ?? [];
        const images = [];
        for (const entry of data) {
          if (!entry.b64_json) continue;
          const bytes = new Uint8Array(Buffer.from(entry.b64_json, 'base64'));
          const meta = await sharp(bytes).metadata();
          images.push({
            bytes,
            mediaType: `image/${meta.format === 'jpeg' ? 'jpeg' : (meta.format ?? 'png')}`,
            width: meta.width ?? 0,
            height: meta.height ?? 0,
          });
        }
        if (images.length === 0) {
          throw new PixelError({
            code: 'internal',
            reason: 'malformed_response',
            message: 'a batch result held no image',
          });
        }
        return { images };
      },
    };
    return new ImageService({
      db: this.#deps.db,
      store: this.#deps.store,
      catalog: this.#deps.catalog,
      adapter: (p) => (p === 'openai' ? replay : undefined),
      defaultModel: this.#deps.defaultModel,
      applications: this.#deps.applications,
    });
  }

  #api(): { baseUrl: string; apiKey: string } {
    if (!this.#deps.openai) {
      throw new PixelError({
        code: 'failed_precondition',
        field: 'economy',
        message: 'economy mode needs OPENAI_API_KEY (OpenAI Batch API)',
      });
    }
    return this.#deps.openai;
  }
}

async function call<T>(
  api: { baseUrl: string; apiKey: string },
  method: 'GET' | 'POST',
  path: string,
  body?: FormData | Record<string, unknown>,
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${api.apiKey}` };
  let payload: string | FormData | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(`${api.baseUrl.replace(/\/+$/, '')}${path}`, {
    method,
    headers,
    ...(payload !== undefined && { body: payload }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {}
    throw new PixelError({
      code:
        response.status === 429
          ? 'resource_exhausted'
          : response.status >= 500
            ? 'unavailable'
            : 'failed_precondition',
      reason: 'provider_error',
      provider: 'openai',
      providerStatus: response.status,
      field: 'economy',
      message: `OpenAI Batch API ${method} ${path}: ${redactSecrets(message)}`,
    });
  }
  return (path.endsWith('/content') ? text : JSON.parse(text)) as T;
}
