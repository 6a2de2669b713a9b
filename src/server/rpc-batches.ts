import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampDate, timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter, HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { Candidate as RunCandidate, RunRecord } from '../catalog/batch-runs.ts';
import { type DatasetRecord, DatasetRepo } from '../catalog/datasets.ts';
import { UsageRepo } from '../catalog/usage.ts';
import { parseDataset } from '../datasets/parse.ts';
import {
  BatchService as BatchServiceDesc,
  type Candidate,
  DatasetSchema,
  ExperimentReportSchema,
  GetDatasetResponseSchema,
  ImportDatasetResponseSchema,
  ListDatasetsResponseSchema,
  ListRunCellsResponseSchema,
  ListRunsResponseSchema,
  type RunProgress,
  RunProgressSchema,
  RunSchema,
  SetTeamBudgetResponseSchema,
  UsageReportSchema,
} from '../gen/pixel/v1/batches_pb.ts';
import type { Progress } from '../jobs/batches.ts';
import { reportCsv } from '../jobs/report.ts';
import { type JobSystem, startJobSystem } from '../jobs/system.ts';
import type { Platform } from '../platform/compose.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import { type Caller, requireRole } from './image-service.ts';

const MAX_IMPORT_CHARS = 50 * 1024 * 1024;
/** A watch stream ends after this many updates at most (a client re-opens it to keep following). */
const MAX_WATCH_UPDATES = 100_000;

export interface BatchRpc {
  /** The job system, started on first use (or at once when a run is waiting). */
  jobs(): Promise<JobSystem>;
  register(router: ConnectRouter, caller: (ctx: HandlerContext) => Caller): void;
  stop(): Promise<void>;
}

/**
 * The batch machinery of a server: pg-boss on the catalogue, and in the embedded profile (PGlite, one
 * process) a worker in this process (PIXEL_BATCH_WORKER=false turns it off); `pixel worker` processes do the
 * work in the production profile. It starts in the background, and only when needed: at once when a run is
 * waiting (started by the CLI while the server was down, or cut short by a restart), else on the first
 * batch RPC, so a server that never runs batches never polls a queue.
 */
export function startBatchRpc(platform: Platform, options: { worker: boolean }): BatchRpc {
  const worker = options.worker && platform.env.PIXEL_BATCH_WORKER !== 'false';
  let started: Promise<JobSystem> | undefined;
  let stopped = false;
  const jobs = () => {
    if (stopped)
      return Promise.reject(new PixelError({ code: 'unavailable', message: 'the server is stopping' }));
    if (!started) {
      started = startJobSystem(platform, { worker });
      // A failed start is reported by every batch RPC (and by stop), not as an unhandled rejection.
      started.catch(() => {});
    }
    return started;
  };
  const waiting = platform.db
    .query("SELECT 1 FROM batch_runs WHERE state = 'running' LIMIT 1")
    .then((rows) => {
      if (rows.length > 0 && !stopped) void jobs().catch(() => {});
    })
    .catch(() => {});
  return {
    jobs,
    register(router, caller) {
      router.service(BatchServiceDesc, batchServiceImpl({ jobs, platform, caller }));
    },
    stop: async () => {
      await waiting;
      stopped = true;
      const system = await started?.catch(() => undefined);
      await system?.stop(10_000);
    },
  };
}

export function batchServiceImpl(deps: {
  jobs: () => Promise<JobSystem>;
  platform: Platform;
  caller: (ctx: HandlerContext) => Caller;
}): ServiceImpl<typeof BatchServiceDesc> {
  const service = async () => (await deps.jobs()).batches;
  const datasets = new DatasetRepo(deps.platform.db);
  const usage = new UsageRepo(deps.platform.db);
  const scopeTeam = (caller: Caller) => (caller.role === 'admin' ? undefined : caller.team);

  return {
    async importDataset(req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'member');
      if (req.format !== 'csv' && req.format !== 'jsonl')
        throw invalidArgument('format', 'must be csv or jsonl');
      if (req.content.length > MAX_IMPORT_CHARS) {
        throw invalidArgument('content', `must be at most ${MAX_IMPORT_CHARS} characters`);
      }
      const parsed = parseDataset(req.content, req.format);
      const record = await datasets.create({
        team: caller.team,
        name: req.name,
        source: req.source ?? `${req.name}.${req.format}`,
        parsed,
      });
      return create(ImportDatasetResponseSchema, {
        dataset: datasetMessage(record),
        rejected: parsed.rejected,
      });
    },

    async listDatasets(_req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'viewer');
      const list = await datasets.list(scopeTeam(caller));
      return create(ListDatasetsResponseSchema, { datasets: list.map(datasetMessage) });
    },

    async getDataset(req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'viewer');
      const record = await datasets.get(req.dataset, scopeTeam(caller));
      const limit = req.items ?? 10;
      if (!Number.isInteger(limit) || limit < 0 || limit > 10_000)
        throw invalidArgument('items', 'must be 0–10000');
      const items = await datasets.items(record.id, { limit });
      return create(GetDatasetResponseSchema, {
        dataset: datasetMessage(record),
        items: items.map((i) => ({
          idx: i.idx,
          line: i.line,
          vars: i.vars,
          ...(i.externalId !== null && { externalId: i.externalId }),
          ...(i.category !== null && { category: i.category }),
        })),
      });
    },

    async startExperiment(req, ctx) {
      const run = await (await service()).startExperiment(
        {
          dataset: req.dataset,
          application: req.application,
          candidates: req.candidates.map((c, i) => candidateOf(c, `candidates[${i}]`)),
          sample:
            req.sample === undefined
              ? { mode: 'all' }
              : req.sampleSeed === undefined
                ? { mode: 'first', n: req.sample }
                : { mode: 'random', n: req.sample, seed: req.sampleSeed },
          gate: req.gate,
        },
        deps.caller(ctx),
      );
      return runMessage(run);
    },

    async startRun(req, ctx) {
      if (!req.candidate) throw invalidArgument('candidate', 'a run needs a candidate (model and overrides)');
      const run = await (await service()).startRun(
        {
          dataset: req.dataset,
          application: req.application,
          candidate: candidateOf(req.candidate, 'candidate'),
          ...(req.budgetUsd !== undefined && { budgetUsd: req.budgetUsd }),
          ...(req.economy && { economy: true }),
          ...(req.deadlineHours !== undefined && { deadlineMs: req.deadlineHours * 3_600_000 }),
        },
        deps.caller(ctx),
      );
      return runMessage(run);
    },

    async getRun(req, ctx) {
      return runMessage(await (await service()).get(req.id, deps.caller(ctx)));
    },

    async listRuns(req, ctx) {
      const kind = req.kind;
      if (kind !== undefined && kind !== 'experiment' && kind !== 'production') {
        throw invalidArgument('kind', 'must be experiment or production');
      }
      const list = await (await service()).list(deps.caller(ctx), kind);
      return create(ListRunsResponseSchema, { runs: list.map(runMessage) });
    },

    async pauseRun(req, ctx) {
      return runMessage(await (await service()).pause(req.id, deps.caller(ctx)));
    },

    async resumeRun(req, ctx) {
      if (req.budgetUsd !== undefined && !(req.budgetUsd > 0)) {
        throw invalidArgument('budget_usd', 'must be a positive amount');
      }
      return runMessage(
        await (await service()).resume(req.id, deps.caller(ctx), {
          ...(req.budgetUsd !== undefined && { budgetUsd: req.budgetUsd }),
        }),
      );
    },

    async cancelRun(req, ctx) {
      return runMessage(await (await service()).cancel(req.id, deps.caller(ctx)));
    },

    async *watchRun(req, ctx) {
      const caller = deps.caller(ctx);
      const every = req.intervalMs ?? 1_000;
      if (!Number.isInteger(every) || every < 100 || every > 60_000) {
        throw invalidArgument('interval_ms', 'must be 100–60000');
      }
      for (let i = 0; i < MAX_WATCH_UPDATES && !ctx.signal.aborted; i++) {
        const progress = await (await service()).progress(req.id, caller);
        yield progressMessage(progress);
        if (progress.state !== 'running') return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, every);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },

    async getExperimentReport(req, ctx) {
      const report = await (await service()).report(req.id, deps.caller(ctx));
      return create(ExperimentReportSchema, {
        runId: report.runId,
        state: report.state,
        application: report.application,
        items: report.items,
        notes: report.notes,
        csv: reportCsv(report),
        ...(report.recommended && { recommended: report.recommended }),
        candidates: report.candidates.map((c) => ({
          rank: c.rank,
          candidate: c.candidate,
          model: c.model,
          overrides: c.overrides as JsonObject,
          n: c.n,
          accepted: c.accepted,
          acceptedBy: c.acceptedBy,
          reviewed: c.reviewed,
          costUsd: c.costUsd,
          ...opt('passRate', c.passRate),
          ...opt('passRateCiLow', c.passRateCi?.[0] ?? null),
          ...opt('passRateCiHigh', c.passRateCi?.[1] ?? null),
          ...opt('humanApproval', c.humanApproval),
          ...opt('pairwisePreference', c.pairwisePreference),
          pairwiseComparisons: c.pairwiseComparisons,
          ...opt('costPerAcceptedUsd', c.costPerAcceptedUsd),
          ...opt('latencyP50Ms', c.latencyP50Ms),
          ...opt('latencyP95Ms', c.latencyP95Ms),
        })),
      });
    },

    async listRunCells(req, ctx) {
      const page = await (await service()).listCells(req.id, deps.caller(ctx), {
        ...(req.state !== undefined && { state: req.state }),
        ...(req.candidate !== undefined && { candidate: req.candidate }),
        ...(req.pageSize !== undefined && { pageSize: req.pageSize }),
        ...(req.pageToken !== undefined && req.pageToken !== '' && { pageToken: req.pageToken }),
      });
      return create(ListRunCellsResponseSchema, {
        total: page.total,
        ...(page.nextPageToken !== undefined && { nextPageToken: page.nextPageToken }),
        cells: page.cells.map((c) => ({
          item: c.item,
          candidate: c.candidate,
          model: c.model,
          provider: c.provider,
          state: c.state,
          attempts: c.attempts,
          imageIds: c.imageIds,
          vars: c.vars,
          ...opt('costUsd', c.costUsd),
          ...opt('latencyMs', c.latencyMs),
          ...opt('line', c.line),
          ...(c.judgePass !== null && { judgePass: c.judgePass }),
          ...(c.error !== null && { error: c.error }),
          ...(c.via !== null && { via: c.via }),
          ...(c.finishedMs !== null && { finishedAt: timestampFromMs(c.finishedMs) }),
          ...(c.externalId !== null && { externalId: c.externalId }),
          ...(c.category !== null && { category: c.category }),
        })),
      });
    },

    async getUsage(req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'viewer');
      if (caller.role !== 'admin' && req.team !== undefined && req.team !== caller.team) {
        throw new PixelError({
          code: 'permission_denied',
          field: 'team',
          message: `you may see only team ${caller.team}'s usage`,
        });
      }
      const team = caller.role === 'admin' ? req.team : caller.team;
      const report = await usage.report({
        ...(team !== undefined && { team }),
        ...(req.since && { since: timestampDate(req.since) }),
      });
      const budget = team === undefined ? null : await usage.teamBudget(team);
      return create(UsageReportSchema, {
        rows: report.byKey.map((r) => ({
          team: r.team,
          model: r.model,
          images: r.images,
          costUsd: r.costUsd,
          ...(r.application !== null && { application: r.application }),
        })),
        runs: report.byRun,
        totalImages: report.totalImages,
        totalCostUsd: report.totalCostUsd,
        ...(budget !== null && { teamBudgetUsd: budget }),
        ...(team !== undefined && { teamSpentThisMonthUsd: await usage.spentThisMonth(team, Date.now()) }),
      });
    },

    async setTeamBudget(req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'admin');
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(req.team))
        throw invalidArgument('team', 'must be 1–64 of A-Z a-z 0-9 . _ -');
      await usage.setTeamBudget(req.team, req.monthlyUsd ?? null, Date.now());
      return create(SetTeamBudgetResponseSchema, {});
    },
  };
}

function opt<K extends string>(key: K, value: number | null): { [P in K]?: number } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: number };
}

function candidateOf(c: Candidate, field: string): RunCandidate {
  const overrides: Record<string, unknown> = c.overrides ?? {};
  if (c.model.trim() === '') throw invalidArgument(`${field}.model`, 'a candidate needs a model id');
  return { model: c.model, overrides };
}

function datasetMessage(d: DatasetRecord) {
  return create(DatasetSchema, {
    id: d.id,
    team: d.team,
    name: d.name,
    source: d.source,
    format: d.format,
    itemCount: d.itemCount,
    rejectedCount: d.rejectedCount,
    createdAt: timestampFromMs(d.createdAt.getTime()),
  });
}

function runMessage(run: RunRecord) {
  return create(RunSchema, {
    id: run.id,
    kind: run.kind,
    team: run.team,
    datasetId: run.datasetId,
    application: run.application,
    candidates: run.candidates.map((c) => ({
      model: c.model,
      overrides: c.overrides as JsonObject,
    })),
    state: run.state,
    cellCount: run.cellCount,
    economy: run.economy,
    createdAt: timestampFromMs(run.createdMs),
    ...(run.stopReason !== null && { stopReason: run.stopReason }),
    ...(run.budgetUsd !== null && { budgetUsd: run.budgetUsd }),
  });
}

function progressMessage(p: Progress): RunProgress {
  return create(RunProgressSchema, {
    runId: p.runId,
    state: p.state,
    total: p.total,
    done: p.done,
    failed: p.failed,
    skipped: p.skipped,
    running: p.running,
    remaining: p.remaining,
    costUsd: p.costUsd,
    ratePerSec: p.ratePerSec,
    ...(p.stopReason !== null && { stopReason: p.stopReason }),
    ...(p.budgetUsd !== null && { budgetUsd: p.budgetUsd }),
    ...(p.etaSec !== null && { etaSec: p.etaSec }),
  });
}
