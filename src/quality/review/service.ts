import { type Actor, actorName } from '../../apps/permissions.ts';
import type { Queryable } from '../../catalog/db.ts';
import { invalidArgument, PixelError } from '../../protocol/errors.ts';
import { binaryAgreement } from '../metrics.ts';

export type QueueReason = 'passed' | 'failed-sample' | 'all';
export type ReviewVerdict = 'approve' | 'reject';

/**
 * Why a queued image goes ahead of the rest, strongest first: the gate and a reviewer disagree (either
 * way), two judges answered one of its questions differently, or its reviewers gave different verdicts.
 */
export const DISAGREEMENTS = [
  'judge-passed-people-rejected',
  'judge-failed-people-approved',
  'judges-split',
  'people-split',
] as const;
export type Disagreement = (typeof DISAGREEMENTS)[number];

/** One reviewer's review of an image. */
export interface ImageReview {
  reviewer: string;
  verdict: ReviewVerdict | null;
  reasons: string[];
  rating: number | null;
  note: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface QueueItem {
  imageId: string;
  app: string;
  reason: QueueReason;
  enqueuedAt: Date;
  model: string | null;
  prompt: string | null;
  score: number | null;
  passed: boolean | null;
  reviews: number;
  /** Empty when judges and people agree (or nobody reviewed it yet). */
  disagreements: Disagreement[];
}

export interface ReviewInput {
  imageId: string;
  verdict?: ReviewVerdict;
  /** Short tags: `wrong-cut`, `text-visible`, `looks-cooked`… */
  reasons?: string[];
  rating?: number;
  note?: string;
}

export interface ReviewerAgreement {
  /** Images with at least two verdicts. */
  images: number;
  /** Reviewer pairs over those images. */
  pairs: number;
  /** Share of pairs that gave the same verdict. */
  percentAgreement: number | null;
  /** Cohen's kappa over all pairs (first reviewer by name as rater A). */
  kappa: number | null;
}

export interface ApprovalRate {
  key: string;
  period: string;
  reviewed: number;
  approved: number;
  rate: number;
}

/** The queue query's column that says whether each disagreement holds. */
const DISAGREEMENT_COLUMN: Record<Disagreement, string> = {
  'judge-passed-people-rejected': 'passed_rejected',
  'judge-failed-people-approved': 'failed_approved',
  'judges-split': 'judges_split',
  'people-split': 'people_split',
};

const dateOf = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

const REASON_RE = /^[a-z0-9][a-z0-9-]{0,39}$/;
type Row = Record<string, unknown>;

function denied(message: string): PixelError {
  return new PixelError({ code: 'permission_denied', reason: 'role', message });
}

function canReview(actor: Actor): void {
  if (actor.role === 'viewer')
    throw denied('viewers may read the review queue but not approve, reject or rate');
}

/**
 * Human review of what the gate produced: a queue per team and application, verdicts with reason
 * tags, 1–5 ratings and pairwise preferences, several reviewers per image. A team sees and reviews
 * only its own queue (another team's image reads as not found); viewers read but cannot review.
 */
export class ReviewService {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async enqueue(imageId: string, item: { app: string; team: string; reason: QueueReason }): Promise<void> {
    await this.#db.query(
      `INSERT INTO quality_review_queue (image_id, application, team, reason) VALUES ($1, $2, $3, $4)
       ON CONFLICT (image_id) DO NOTHING`,
      [imageId, item.app, item.team, item.reason],
    );
  }

  /**
   * The caller's team queue (optionally one application), without the images this caller already
   * reviewed: first the images where the gate and a reviewer disagree, then those where judges or
   * reviewers disagree among themselves, then the rest; oldest first within each.
   */
  async queue(actor: Actor, options: { app?: string; limit?: number } = {}): Promise<QueueItem[]> {
    const asked = options.limit ?? 50;
    if (!Number.isInteger(asked) || asked < 1)
      throw invalidArgument('limit', `limit must be a positive integer, got ${asked}`);
    const limit = Math.min(500, asked);
    const rows = await this.#db.query<Row>(
      `WITH queued AS (
         SELECT q.image_id, q.application, q.reason, q.created_at, i.model, i.prompt, v.score, v.passed,
                (SELECT count(*) FROM quality_reviews r WHERE r.image_id = q.image_id) AS reviews,
                (v.passed AND EXISTS (SELECT 1 FROM quality_reviews r
                   WHERE r.image_id = q.image_id AND r.team = q.team AND r.verdict = 'reject')) AS passed_rejected,
                (NOT v.passed AND EXISTS (SELECT 1 FROM quality_reviews r
                   WHERE r.image_id = q.image_id AND r.team = q.team AND r.verdict = 'approve')) AS failed_approved,
                EXISTS (SELECT 1 FROM quality_answers a
                   WHERE a.image_id = q.image_id AND a.path <> 'ensemble' AND a.answer <> 'unsure'
                   GROUP BY a.question_id HAVING count(DISTINCT a.answer) > 1) AS judges_split,
                ((SELECT count(DISTINCT r.verdict) FROM quality_reviews r
                   WHERE r.image_id = q.image_id AND r.team = q.team) > 1) AS people_split
         FROM quality_review_queue q
         LEFT JOIN images i ON i.id = q.image_id
         LEFT JOIN quality_verdicts v ON v.image_id = q.image_id
         WHERE q.team = $1 AND ($2::text IS NULL OR q.application = $2)
           AND NOT EXISTS (SELECT 1 FROM quality_reviews r WHERE r.image_id = q.image_id AND r.reviewer = $3))
       SELECT * FROM queued
       ORDER BY CASE WHEN passed_rejected OR failed_approved THEN 0 WHEN judges_split OR people_split THEN 1
                ELSE 2 END, created_at, image_id
       LIMIT $4`,
      [actor.team, options.app ?? null, actorName(actor), limit],
    );
    return rows.map((r) => ({
      imageId: String(r.image_id),
      app: String(r.application),
      reason: r.reason as QueueReason,
      enqueuedAt: new Date(String(r.created_at)),
      model: r.model === null || r.model === undefined ? null : String(r.model),
      prompt: r.prompt === null || r.prompt === undefined ? null : String(r.prompt),
      score: r.score === null || r.score === undefined ? null : Number(r.score),
      passed: r.passed === null || r.passed === undefined ? null : Boolean(r.passed),
      reviews: Number(r.reviews),
      disagreements: DISAGREEMENTS.filter((d) => r[DISAGREEMENT_COLUMN[d]] === true),
    }));
  }

  /** Every review of one of the caller's team's images, oldest first (another team's image has none). */
  async imageReviews(actor: Actor, imageId: string): Promise<ImageReview[]> {
    if (!imageId) throw invalidArgument('imageId', 'give the image ID whose reviews to list');
    const rows = await this.#db.query<Row>(
      `SELECT reviewer, verdict, reasons, rating, note, created_at, updated_at FROM quality_reviews
       WHERE image_id = $1 AND team = $2 ORDER BY created_at, reviewer`,
      [imageId, actor.team],
    );
    return rows.map((r) => ({
      reviewer: String(r.reviewer),
      verdict: r.verdict === null || r.verdict === undefined ? null : (r.verdict as ReviewVerdict),
      reasons: (typeof r.reasons === 'string' ? JSON.parse(r.reasons) : (r.reasons ?? [])) as string[],
      rating: r.rating === null || r.rating === undefined ? null : Number(r.rating),
      note: r.note === null || r.note === undefined ? null : String(r.note),
      createdAt: dateOf(r.created_at),
      updatedAt: dateOf(r.updated_at),
    }));
  }

  async #queued(actor: Actor, imageId: string, field = 'imageId'): Promise<{ app: string }> {
    const [row] = await this.#db.query<Row>(
      'SELECT application FROM quality_review_queue WHERE image_id = $1 AND team = $2',
      [imageId, actor.team],
    );
    if (!row)
      throw new PixelError({
        code: 'not_found',
        field,
        message: `no image ${imageId} in team ${actor.team}'s review queue`,
      });
    return { app: String(row.application) };
  }

  /** Approve or reject (with reason tags), and/or rate 1–5; one row per reviewer and image, the latest wins. */
  async review(actor: Actor, input: ReviewInput): Promise<void> {
    canReview(actor);
    if (input.verdict !== undefined && input.verdict !== 'approve' && input.verdict !== 'reject')
      throw invalidArgument(
        'verdict',
        `verdict must be approve or reject, got ${JSON.stringify(input.verdict)}`,
      );
    if (
      input.rating !== undefined &&
      !(Number.isInteger(input.rating) && input.rating >= 1 && input.rating <= 5)
    )
      throw invalidArgument('rating', `rating must be an integer 1–5, got ${input.rating}`);
    if (input.verdict === undefined && input.rating === undefined)
      throw invalidArgument('verdict', 'give a verdict (approve or reject), a rating, or both');
    const reasons = input.reasons ?? [];
    reasons.forEach((r, i) => {
      if (!REASON_RE.test(r))
        throw invalidArgument(
          `reasons[${i}]`,
          `reasons[${i}] must be a short lowercase tag (letters, digits, -), got ${JSON.stringify(r)}`,
        );
    });
    const { app } = await this.#queued(actor, input.imageId);
    await this.#db.query(
      `INSERT INTO quality_reviews (image_id, application, team, reviewer, verdict, reasons, rating, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (image_id, reviewer) DO UPDATE SET
         verdict = COALESCE(EXCLUDED.verdict, quality_reviews.verdict),
         reasons = CASE WHEN EXCLUDED.verdict IS NULL THEN quality_reviews.reasons ELSE EXCLUDED.reasons END,
         rating = COALESCE(EXCLUDED.rating, quality_reviews.rating),
         note = COALESCE(EXCLUDED.note, quality_reviews.note),
         updated_at = now()`,
      [
        input.imageId,
        app,
        actor.team,
        actorName(actor),
        input.verdict ?? null,
        JSON.stringify(reasons),
        input.rating ?? null,
        input.note?.slice(0, 2000) ?? null,
      ],
    );
  }

  /** "Of these two images of one item, this one is better" (or a tie). */
  async prefer(
    actor: Actor,
    input: { imageA: string; imageB: string; preferred: 'a' | 'b' | 'tie' },
  ): Promise<void> {
    canReview(actor);
    if (input.imageA === input.imageB)
      throw invalidArgument('imageB', 'a preference needs two different images');
    if (!['a', 'b', 'tie'].includes(input.preferred))
      throw invalidArgument(
        'preferred',
        `preferred must be a, b or tie, got ${JSON.stringify(input.preferred)}`,
      );
    const { app } = await this.#queued(actor, input.imageA, 'imageA');
    await this.#queued(actor, input.imageB, 'imageB');
    await this.#db.query(
      `INSERT INTO quality_preferences (image_a, image_b, application, team, reviewer, preferred)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (image_a, image_b, reviewer) DO UPDATE SET preferred = EXCLUDED.preferred, created_at = now()`,
      [input.imageA, input.imageB, app, actor.team, actorName(actor), input.preferred],
    );
  }

  /** How often reviewers of the same image agree (the ceiling for any judge). */
  async agreement(actor: Actor, options: { app?: string } = {}): Promise<ReviewerAgreement> {
    const rows = await this.#db.query<Row>(
      `SELECT image_id, reviewer, verdict FROM quality_reviews
       WHERE team = $1 AND verdict IS NOT NULL AND ($2::text IS NULL OR application = $2)
       ORDER BY image_id, reviewer`,
      [actor.team, options.app ?? null],
    );
    const byImage = new Map<string, boolean[]>();
    for (const r of rows) {
      const list = byImage.get(String(r.image_id)) ?? [];
      list.push(r.verdict === 'approve');
      byImage.set(String(r.image_id), list);
    }
    const a: boolean[] = [];
    const b: boolean[] = [];
    let images = 0;
    for (const verdicts of byImage.values()) {
      if (verdicts.length < 2) continue;
      images++;
      for (let i = 0; i < verdicts.length; i++)
        for (let j = i + 1; j < verdicts.length; j++) {
          a.push(verdicts[i]!);
          b.push(verdicts[j]!);
        }
    }
    const agreement = binaryAgreement(a, b);
    return { images, pairs: a.length, percentAgreement: agreement.accuracy, kappa: agreement.kappa };
  }

  /** Human approval rate per application, image model or judge, per day or week (majority verdict per image). */
  async approvalRates(
    actor: Actor,
    options: { by?: 'application' | 'model' | 'judge'; period?: 'day' | 'week'; app?: string } = {},
  ): Promise<ApprovalRate[]> {
    const by = options.by ?? 'application';
    const period = options.period ?? 'week';
    // Both end up in the SQL text: only these values.
    if (!['application', 'model', 'judge'].includes(by))
      throw invalidArgument('by', 'by must be application, model or judge');
    if (period !== 'day' && period !== 'week') throw invalidArgument('period', 'period must be day or week');
    const key =
      by === 'application'
        ? 'r.application'
        : by === 'model'
          ? "COALESCE(v.model, i.route, '?')"
          : "COALESCE(v.judge, '?')";
    const rows = await this.#db.query<Row>(
      `WITH per_image AS (
         SELECT r.image_id, max(r.application) AS application,
                sum(CASE WHEN r.verdict = 'approve' THEN 1 ELSE 0 END) AS ups,
                sum(CASE WHEN r.verdict = 'reject' THEN 1 ELSE 0 END) AS downs,
                min(r.created_at) AS at
         FROM quality_reviews r
         WHERE r.team = $1 AND r.verdict IS NOT NULL AND ($2::text IS NULL OR r.application = $2)
         GROUP BY r.image_id)
       SELECT ${key.replace(/\br\./g, 'p.')} AS key, to_char(date_trunc('${period}', p.at), 'YYYY-MM-DD') AS period,
              count(*) AS reviewed, sum(CASE WHEN p.ups > p.downs THEN 1 ELSE 0 END) AS approved
       FROM per_image p
       LEFT JOIN quality_verdicts v ON v.image_id = p.image_id
       LEFT JOIN images i ON i.id = p.image_id
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [actor.team, options.app ?? null],
    );
    return rows.map((r) => ({
      key: String(r.key),
      period: String(r.period),
      reviewed: Number(r.reviewed),
      approved: Number(r.approved),
      rate: Number(r.approved) / Number(r.reviewed),
    }));
  }
}

/** Which gate outcomes go to people: everything it passed, plus a sample of what it failed (or all). */
export function queueReason(
  status: 'passed' | 'failed' | 'needs_review',
  policy: { mode: 'passed' | 'sample' | 'all'; failedSample: number },
  random: () => number,
): QueueReason | undefined {
  if (policy.mode === 'all') return 'all';
  if (status === 'passed' || status === 'needs_review') return 'passed';
  if (policy.mode === 'sample' && random() < policy.failedSample) return 'failed-sample';
  return undefined;
}
