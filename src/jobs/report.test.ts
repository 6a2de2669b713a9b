import { describe, expect, it } from 'vitest';
import type { CellRecord, RunRecord } from '../catalog/batch-runs.ts';
import { buildReport, percentile, reportCsv, wilson } from './report.ts';

const run = (candidates: RunRecord['candidates'], items: number): RunRecord => ({
  id: 'exp_1',
  kind: 'experiment',
  team: 't',
  datasetId: 'ds_1',
  application: 'produce',
  candidates,
  sample: { mode: 'all', items: Array.from({ length: items }, (_, i) => i) },
  gate: false,
  economy: false,
  deadlineMs: null,
  budgetUsd: null,
  state: 'done',
  stopReason: null,
  cellCount: items * candidates.length,
  createdMs: 0,
  updatedMs: 0,
});

const cell = (item: number, candidate: number, over: Partial<CellRecord>): CellRecord => ({
  runId: 'exp_1',
  item,
  candidate,
  provider: 'pixel',
  state: 'done',
  attempts: 1,
  leaseOwner: null,
  leaseUntilMs: null,
  imageIds: [`img_${item}_${candidate}`],
  costUsd: 0.01,
  latencyMs: 100,
  judgePass: null,
  error: null,
  via: 'direct',
  finishedMs: 1,
  ...over,
});

describe('wilson', () => {
  it('matches hand-computed intervals', () => {
    // 8/10 at 95 %: centre (0.8 + 1.9208/10)/(1.38415) = 0.71675, half-width 0.22330
    const [lo, hi] = wilson(8, 10);
    expect(lo).toBeCloseTo(0.4902, 4);
    expect(hi).toBeCloseTo(0.9433, 4);
    expect(wilson(0, 0)).toEqual([0, 1]);
    const [zeroLo, zeroHi] = wilson(0, 5);
    expect(zeroLo).toBe(0);
    expect(zeroHi).toBeCloseTo(0.4345, 4);
  });

  it('nearest-rank percentiles', () => {
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(20);
    expect(percentile([10, 20, 30, 40], 0.95)).toBe(40);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe('buildReport', () => {
  it('ranks by pass rate, then approval, then cost per accepted; names the winner with its interval', () => {
    const r = run(
      [
        { model: 'pixel/sketch', overrides: {} },
        { model: 'pixel/sketch', overrides: { style: 'flat-vector' } },
        { model: 'openai/gpt-image-1-mini', overrides: {} },
      ],
      4,
    );
    const cells: CellRecord[] = [];
    for (let i = 0; i < 4; i++) {
      cells.push(cell(i, 0, { costUsd: 0.02, latencyMs: 100 + i }));
      cells.push(cell(i, 1, { costUsd: 0.01, latencyMs: 300 + i }));
      cells.push(
        cell(
          i,
          2,
          i === 0 ? { state: 'failed', imageIds: [], costUsd: null, latencyMs: null } : { costUsd: 0.005 },
        ),
      );
    }
    const reviews = new Map([
      ['img_0_0', { approved: false }],
      ['img_0_1', { approved: true }],
    ]);
    const report = buildReport(r, cells, reviews);
    // candidates 0 and 1 both 4/4; 1 wins on human approval; 2 is 3/4.
    expect(report.candidates.map((c) => [c.candidate, c.rank, c.accepted, c.n])).toEqual([
      [1, 1, 4, 4],
      [0, 2, 4, 4],
      [2, 3, 3, 4],
    ]);
    expect(report.candidates[0]!.humanApproval).toBe(1);
    expect(report.candidates[1]!.humanApproval).toBe(0);
    expect(report.candidates[0]!.costPerAcceptedUsd).toBe(0.01);
    expect(report.candidates[2]!.costPerAcceptedUsd).toBe(0.005);
    expect(report.candidates[0]!.latencyP50Ms).toBe(301);
    expect(report.candidates[0]!.latencyP95Ms).toBe(303);
    expect(report.recommended?.candidate).toBe(1);
    expect(report.recommended?.uncertainty).toMatch(
      /n = 4 items; 95% Wilson interval on the pass rate 51\.0%–100\.0%/,
    );
    expect(report.recommended?.uncertainty).toMatch(/not separable/);
    expect(report.notes[0]).toMatch(/no quality gate ran/);
    const csv = reportCsv(report).trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(csv[0]).toMatch(/^rank,candidate,model,overrides,n,accepted,pass_rate/);
    expect(csv[1]).toMatch(/^1,1,pixel\/sketch,"{""style"":""flat-vector""}",4,4,1,/);
  });

  it('pairwise preference: share of comparisons won against another candidate on the same item, a tie half', () => {
    const r = run(
      [
        { model: 'pixel/sketch', overrides: {} },
        { model: 'pixel/sketch', overrides: { style: 'line-art' } },
        { model: 'pixel/sketch', overrides: { style: 'flat-vector' } },
      ],
      3,
    );
    const cells: CellRecord[] = [];
    for (let i = 0; i < 3; i++) for (let c = 0; c < 3; c++) cells.push(cell(i, c, {}));
    const prefs = [
      // item 0: 1 beats 0 (two reviewers), 0 and 2 tie
      { imageA: 'img_0_0', imageB: 'img_0_1', preferred: 'b', reviewer: 'ann' },
      { imageA: 'img_0_1', imageB: 'img_0_0', preferred: 'a', reviewer: 'judge:pixel/inspect' },
      { imageA: 'img_0_0', imageB: 'img_0_2', preferred: 'tie', reviewer: 'ann' },
      // item 1: 1 beats 2
      { imageA: 'img_1_2', imageB: 'img_1_1', preferred: 'b', reviewer: 'bob' },
      // left out: two items, one candidate with itself, an image outside the run
      { imageA: 'img_0_0', imageB: 'img_1_1', preferred: 'a', reviewer: 'ann' },
      { imageA: 'img_2_0', imageB: 'img_2_0b', preferred: 'a', reviewer: 'ann' },
      { imageA: 'img_2_2', imageB: 'img_other', preferred: 'a', reviewer: 'ann' },
    ] as const;
    const withSecond = cells.map((c) =>
      c.item === 2 && c.candidate === 0 ? { ...c, imageIds: ['img_2_0', 'img_2_0b'] } : c,
    );
    const report = buildReport(r, withSecond, new Map(), prefs);
    const by = (c: number) => report.candidates.find((x) => x.candidate === c)!;
    // candidate 0: lost 2, tied 1 → 0.5/3; candidate 1: won 3 of 3; candidate 2: tied 1, lost 1 → 0.5/2
    expect([by(0).pairwisePreference, by(0).pairwiseComparisons]).toEqual([0.5 / 3, 3]);
    expect([by(1).pairwisePreference, by(1).pairwiseComparisons]).toEqual([1, 3]);
    expect([by(2).pairwisePreference, by(2).pairwiseComparisons]).toEqual([0.25, 2]);
    // Everything else equal, pairwise preference decides the ranking.
    expect(report.candidates.map((c) => c.candidate)).toEqual([1, 2, 0]);
    expect(report.notes.join('\n')).toMatch(/pairwise preference: 4 comparisons .* by 3 reviewers or judges/);
    const csv = reportCsv(report).trim().split('\n');
    expect(csv[0]).toContain('pairwise_preference,pairwise_comparisons');
    expect(csv[1]).toMatch(/,1,3,/);
    // Nobody compared anything: the column stays empty and the note says why.
    const none = buildReport(r, cells, new Map());
    expect(none.candidates.every((c) => c.pairwisePreference === null && c.pairwiseComparisons === 0)).toBe(
      true,
    );
    expect(none.notes.join('\n')).toMatch(/nobody \(reviewer or judge\) compared/);
  });
});
