import type { Queryable } from '../../catalog/db.ts';
import {
  type BinaryAgreement,
  binaryAgreement,
  type FittedThreshold,
  fitThreshold,
  type RatingAgreement,
  ratingAgreement,
} from '../metrics.ts';

export interface JudgeCalibration {
  judge: string;
  /** Images with both a gate verdict from this judge and a human verdict. */
  images: number;
  /** Gate pass vs human approval. */
  verdicts: BinaryAgreement;
  /** Gate score vs the mean human rating. */
  ratings: RatingAgreement;
  /** Per answer path, then per question category: "every answer of the category matched" vs human approval. */
  paths: Record<string, Record<string, BinaryAgreement>>;
  /** Agreement per week, oldest first. */
  drift: Array<{ period: string; n: number; accuracy: number | null; kappa: number | null }>;
  /** Kappa below the configured minimum (or not computable with enough images). */
  flagged: boolean;
}

export interface JudgesReport {
  team: string;
  app?: string;
  minKappa: number;
  judges: JudgeCalibration[];
  /** Per application: the score threshold that best reproduces people's verdicts, with the agreement it gives. */
  thresholds: Array<{ app: string } & FittedThreshold>;
  notes: string[];
}

type Row = Record<string, unknown>;

/**
 * How well each judge agrees with people, from the catalogue: human verdict per image is the
 * majority of its reviewers (ties left out), rating the mean. Only the caller's team's data.
 */
export async function judgesReport(
  db: Queryable,
  options: { team: string; app?: string; minKappa?: number; minImages?: number },
): Promise<JudgesReport> {
  const minKappa = options.minKappa ?? 0.4;
  const minImages = options.minImages ?? 10;
  const human = await db.query<Row>(
    `SELECT image_id, max(application) AS application,
            sum(CASE WHEN verdict = 'approve' THEN 1 WHEN verdict = 'reject' THEN -1 ELSE 0 END) AS balance,
            avg(rating) AS rating
     FROM quality_reviews WHERE team = $1 AND ($2::text IS NULL OR application = $2)
     GROUP BY image_id`,
    [options.team, options.app ?? null],
  );
  const people = new Map<string, { approved: boolean | null; rating: number | null; app: string }>();
  for (const h of human) {
    const balance = Number(h.balance);
    people.set(String(h.image_id), {
      approved: balance > 0 ? true : balance < 0 ? false : null,
      rating: h.rating === null || h.rating === undefined ? null : Number(h.rating),
      app: String(h.application),
    });
  }
  const verdicts = await db.query<Row>(
    `SELECT image_id, application, judge, score, passed, to_char(date_trunc('week', created_at), 'YYYY-MM-DD') AS week
     FROM quality_verdicts WHERE team = $1 AND ($2::text IS NULL OR application = $2)`,
    [options.team, options.app ?? null],
  );
  const answers = await db.query<Row>(
    `SELECT image_id, judge, path, category, expected, answer FROM quality_answers
     WHERE team = $1 AND ($2::text IS NULL OR application = $2) AND answer <> 'unsure'`,
    [options.team, options.app ?? null],
  );

  const judges = new Map<string, Row[]>();
  for (const v of verdicts) {
    const list = judges.get(String(v.judge)) ?? [];
    list.push(v);
    judges.set(String(v.judge), list);
  }
  const out: JudgeCalibration[] = [];
  for (const [judge, rows] of [...judges.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const pred: boolean[] = [];
    const truth: boolean[] = [];
    const scores: number[] = [];
    const ratings: number[] = [];
    const weeks = new Map<string, { p: boolean[]; t: boolean[] }>();
    for (const v of rows) {
      const h = people.get(String(v.image_id));
      if (!h) continue;
      if (h.approved !== null) {
        pred.push(Boolean(v.passed));
        truth.push(h.approved);
        const w = weeks.get(String(v.week)) ?? { p: [], t: [] };
        w.p.push(Boolean(v.passed));
        w.t.push(h.approved);
        weeks.set(String(v.week), w);
      }
      if (h.rating !== null && v.score !== null && v.score !== undefined) {
        scores.push(Number(v.score));
        ratings.push(h.rating);
      }
    }
    const agreement = binaryAgreement(pred, truth);
    out.push({
      judge,
      images: pred.length,
      verdicts: agreement,
      ratings: ratingAgreement(scores, ratings),
      paths: pathCategories(
        answers.filter((a) => {
          const j = String(a.judge);
          return j === judge || judge.includes(j);
        }),
        people,
      ),
      drift: [...weeks.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([period, w]) => {
          const a = binaryAgreement(w.p, w.t);
          return { period, n: a.n, accuracy: a.accuracy, kappa: a.kappa };
        }),
      flagged: pred.length >= minImages && (agreement.kappa === null || agreement.kappa < minKappa),
    });
  }

  // Thresholds per application over all judges' scores of that application's images.
  const perApp = new Map<string, { s: number[]; t: boolean[] }>();
  for (const v of verdicts) {
    const h = people.get(String(v.image_id));
    if (!h || h.approved === null || v.score === null || v.score === undefined) continue;
    const app = String(v.application ?? h.app);
    const e = perApp.get(app) ?? { s: [], t: [] };
    e.s.push(Number(v.score));
    e.t.push(h.approved);
    perApp.set(app, e);
  }
  const thresholds = [...perApp.entries()].flatMap(([app, e]) => {
    const fit = fitThreshold(e.s, e.t);
    return fit ? [{ app, ...fit }] : [];
  });
  const notes: string[] = [];
  if (people.size === 0)
    notes.push('no human reviews yet: review images with `pixel review approve|reject|rate` first');
  notes.push(`judges with at least ${minImages} reviewed images and kappa below ${minKappa} are flagged`);
  return {
    team: options.team,
    ...(options.app ? { app: options.app } : {}),
    minKappa,
    judges: out,
    thresholds,
    notes,
  };
}

function pathCategories(
  answers: Row[],
  people: Map<string, { approved: boolean | null }>,
): Record<string, Record<string, BinaryAgreement>> {
  // (image, path, category) → every answer matched?
  const groups = new Map<string, { path: string; category: string; image: string; ok: boolean }>();
  for (const a of answers) {
    const key = `${a.image_id}\u0000${a.path}\u0000${a.category}`;
    const ok = a.answer === a.expected;
    const g = groups.get(key);
    if (g) g.ok = g.ok && ok;
    else
      groups.set(key, { path: String(a.path), category: String(a.category), image: String(a.image_id), ok });
  }
  const series = new Map<string, { p: boolean[]; t: boolean[] }>();
  for (const g of groups.values()) {
    const h = people.get(g.image);
    if (!h || h.approved === null) continue;
    const key = `${g.path}\u0000${g.category}`;
    const s = series.get(key) ?? { p: [], t: [] };
    s.p.push(g.ok);
    s.t.push(h.approved);
    series.set(key, s);
  }
  const out: Record<string, Record<string, BinaryAgreement>> = {};
  for (const [key, s] of series) {
    const [path, category] = key.split('\u0000') as [string, string];
    out[path] ??= {};
    out[path][category] = binaryAgreement(s.p, s.t);
  }
  return out;
}
