import type { Candidate, CellRecord, RunRecord } from '../catalog/batch-runs.ts';

export interface CandidateReport {
  rank: number;
  candidate: number;
  model: string;
  overrides: Record<string, unknown>;
  /** Cells of this candidate that ran to an end (done or failed). */
  n: number;
  done: number;
  failed: number;
  /** What counts as accepted: the judge's pass when the gate ran, else a stored image. */
  acceptedBy: 'judge' | 'stored';
  accepted: number;
  passRate: number | null;
  /** Wilson score interval at 95 % on the pass rate. */
  passRateCi: [number, number] | null;
  /** Share of reviewed images a human approved, and how many were reviewed. */
  humanApproval: number | null;
  reviewed: number;
  /**
   * Share of the pairwise comparisons this candidate's image won against another candidate's image of the
   * same item (a tie counts half), from every reviewer's and judge's recorded choices; null when none.
   */
  pairwisePreference: number | null;
  /** How many such comparisons it was in. */
  pairwiseComparisons: number;
  costUsd: number;
  costPerAcceptedUsd: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

export interface ExperimentReport {
  runId: string;
  state: string;
  application: string;
  items: number;
  candidates: CandidateReport[];
  recommended: { candidate: number; model: string; evidence: string; uncertainty: string } | null;
  notes: string[];
}

export type Review = { approved: boolean } | null;

/** One recorded pairwise choice between two images (a reviewer's or a judge's): `a`, `b` or a tie. */
export interface Preference {
  imageA: string;
  imageB: string;
  preferred: 'a' | 'b' | 'tie';
  reviewer: string;
}

const Z95 = 1.959963984540054;

/** Wilson score interval for k successes out of n at 95 %. */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/**
 * Ranks an experiment's candidates: by pass rate, then human approval, then pairwise preference, then cost
 * per accepted image, then latency p50; names the first as recommended with the evidence and how sure that
 * is (n, the interval, and whether the runner-up's interval overlaps).
 */
export function buildReport(
  run: RunRecord,
  cells: CellRecord[],
  reviews: ReadonlyMap<string, Review>,
  preferences: readonly Preference[] = [],
): ExperimentReport {
  const acceptedBy = run.gate ? 'judge' : 'stored';
  const pairwise = tallyPairwise(cells, preferences);
  const rows: CandidateReport[] = run.candidates.map((candidate: Candidate, index) => {
    const mine = cells.filter((c) => c.candidate === index && (c.state === 'done' || c.state === 'failed'));
    const done = mine.filter((c) => c.state === 'done');
    const accepted = run.gate ? done.filter((c) => c.judgePass === true).length : done.length;
    const n = mine.length;
    let reviewed = 0;
    let approved = 0;
    for (const cell of done) {
      for (const id of cell.imageIds) {
        const review = reviews.get(id);
        if (!review) continue;
        reviewed++;
        if (review.approved) approved++;
      }
    }
    const cost = mine.reduce((s, c) => s + (c.costUsd ?? 0), 0);
    const latencies = done
      .map((c) => c.latencyMs)
      .filter((v): v is number => v !== null)
      .sort((a, b) => a - b);
    return {
      rank: 0,
      candidate: index,
      model: candidate.model,
      overrides: candidate.overrides,
      n,
      done: done.length,
      failed: n - done.length,
      acceptedBy,
      accepted,
      passRate: n > 0 ? accepted / n : null,
      passRateCi: n > 0 ? wilson(accepted, n) : null,
      humanApproval: reviewed > 0 ? approved / reviewed : null,
      reviewed,
      pairwisePreference: pairwise.score(index),
      pairwiseComparisons: pairwise.comparisons(index),
      costUsd: round(cost),
      costPerAcceptedUsd: accepted > 0 ? round(cost / accepted) : null,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP95Ms: percentile(latencies, 0.95),
    };
  });
  const ranked = [...rows].sort(compare);
  ranked.forEach((row, i) => {
    row.rank = i + 1;
  });
  const notes: string[] = [];
  if (!run.gate) {
    notes.push('no quality gate ran: "accepted" means an image was generated and stored, not judged');
  }
  if (pairwise.total === 0) {
    notes.push('pairwise preference: nobody (reviewer or judge) compared these candidates pairwise');
  } else {
    notes.push(
      `pairwise preference: ${pairwise.total} comparisons of two candidates' images of the same item by ` +
        `${pairwise.reviewers} reviewer${pairwise.reviewers === 1 ? '' : 's'} or judge${pairwise.reviewers === 1 ? '' : 's'} ` +
        '(share won, a tie counting half)',
    );
  }
  const best = ranked[0];
  const second = ranked[1];
  let recommended: ExperimentReport['recommended'] = null;
  if (best && best.n > 0) {
    const ci = best.passRateCi!;
    const evidence =
      `${best.model}${describeOverrides(best.overrides)}: ${best.accepted}/${best.n} accepted ` +
      `(${pct(best.passRate)}), cost per accepted ${best.costPerAcceptedUsd === null ? 'n/a' : `$${best.costPerAcceptedUsd}`}, ` +
      `p50 ${best.latencyP50Ms ?? 'n/a'} ms`;
    let uncertainty = `n = ${best.n} items; 95% Wilson interval on the pass rate ${pct(ci[0])}–${pct(ci[1])}`;
    if (second?.passRateCi) {
      const overlap = second.passRateCi[1] >= ci[0];
      uncertainty += overlap
        ? `; overlaps the runner-up's (${pct(second.passRateCi[0])}–${pct(second.passRateCi[1])}): not separable on pass rate at this n, the tie-breakers (approval, cost per accepted, latency) decided`
        : `; clear of the runner-up's (${pct(second.passRateCi[0])}–${pct(second.passRateCi[1])})`;
    }
    recommended = { candidate: best.candidate, model: best.model, evidence, uncertainty };
  }
  return {
    runId: run.id,
    state: run.state,
    application: run.application,
    items: run.sample.items.length,
    candidates: ranked,
    recommended,
    notes,
  };
}

function compare(a: CandidateReport, b: CandidateReport): number {
  return (
    desc(a.passRate, b.passRate) ||
    desc(a.humanApproval, b.humanApproval) ||
    desc(a.pairwisePreference, b.pairwisePreference) ||
    asc(a.costPerAcceptedUsd, b.costPerAcceptedUsd) ||
    asc(a.latencyP50Ms, b.latencyP50Ms) ||
    a.candidate - b.candidate
  );
}

/**
 * Pairwise choices between two candidates' images of the same item: each comparison scores 1 for the
 * preferred image's candidate, ½ each for a tie. Choices between images of one candidate, of different
 * items, or of images outside the run are left out.
 */
function tallyPairwise(cells: readonly CellRecord[], preferences: readonly Preference[]) {
  const owner = new Map<string, { item: number; candidate: number }>();
  for (const cell of cells) for (const id of cell.imageIds) owner.set(id, cell);
  const won = new Map<number, number>();
  const seen = new Map<number, number>();
  const reviewers = new Set<string>();
  let total = 0;
  for (const p of preferences) {
    const a = owner.get(p.imageA);
    const b = owner.get(p.imageB);
    if (!a || !b || a.item !== b.item || a.candidate === b.candidate) continue;
    total++;
    reviewers.add(p.reviewer);
    for (const c of [a.candidate, b.candidate]) seen.set(c, (seen.get(c) ?? 0) + 1);
    if (p.preferred === 'tie') {
      won.set(a.candidate, (won.get(a.candidate) ?? 0) + 0.5);
      won.set(b.candidate, (won.get(b.candidate) ?? 0) + 0.5);
    } else {
      const winner = p.preferred === 'a' ? a.candidate : b.candidate;
      won.set(winner, (won.get(winner) ?? 0) + 1);
    }
  }
  return {
    total,
    reviewers: reviewers.size,
    comparisons: (candidate: number) => seen.get(candidate) ?? 0,
    score: (candidate: number) => {
      const n = seen.get(candidate) ?? 0;
      return n === 0 ? null : (won.get(candidate) ?? 0) / n;
    },
  };
}

const desc = (a: number | null, b: number | null) => (b ?? -1) - (a ?? -1);
const asc = (a: number | null, b: number | null) => (a ?? Number.MAX_VALUE) - (b ?? Number.MAX_VALUE);
const round = (v: number) => Math.round(v * 1e6) / 1e6;
const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);

function describeOverrides(overrides: Record<string, unknown>): string {
  const entries = Object.entries(overrides);
  return entries.length === 0 ? '' : ` [${entries.map(([k, v]) => `${k}=${String(v)}`).join(' ')}]`;
}

/** The report as CSV: one row per candidate, in rank order. */
export function reportCsv(report: ExperimentReport): string {
  const header = [
    'rank',
    'candidate',
    'model',
    'overrides',
    'n',
    'accepted',
    'pass_rate',
    'pass_rate_ci_low',
    'pass_rate_ci_high',
    'human_approval',
    'reviewed',
    'pairwise_preference',
    'pairwise_comparisons',
    'cost_usd',
    'cost_per_accepted_usd',
    'latency_p50_ms',
    'latency_p95_ms',
  ];
  const lines = [header.join(',')];
  for (const r of report.candidates) {
    lines.push(
      [
        r.rank,
        r.candidate,
        r.model,
        JSON.stringify(r.overrides),
        r.n,
        r.accepted,
        r.passRate,
        r.passRateCi?.[0],
        r.passRateCi?.[1],
        r.humanApproval,
        r.reviewed,
        r.pairwisePreference,
        r.pairwiseComparisons,
        r.costUsd,
        r.costPerAcceptedUsd,
        r.latencyP50Ms,
        r.latencyP95Ms,
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? String(Math.round(value * 1e6) / 1e6) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
