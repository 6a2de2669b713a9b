import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { ApplicationResolver } from '../../apps/apply.ts';
import type { Actor } from '../../apps/permissions.ts';
import type { Queryable } from '../../catalog/db.ts';
import {
  GetJudgesReportResponseSchema,
  type ReviewService as ReviewServiceDesc,
} from '../../gen/pixel/v1/review_pb.ts';
import { invalidArgument, PixelError } from '../../protocol/errors.ts';
import { judgesReport } from '../calibration/report.ts';
import { questionsFor } from '../questions/questions.ts';
import { QuestionStore } from '../questions/store.ts';
import type { ReviewService, ReviewVerdict } from './service.ts';

export interface ReviewRpcDeps {
  reviews: ReviewService;
  db: Queryable;
  /** Renders an application for an item (its version, prompt and rubric), for the question sets. */
  resolve?: ApplicationResolver;
  /** The caller resolved by the server's auth interceptor. */
  caller: (ctx: HandlerContext) => Actor;
}

/** `pixel.v1.ReviewService`: thin mapping between wire messages and ReviewService / the judges report. */
export function reviewServiceImpl(deps: ReviewRpcDeps): ServiceImpl<typeof ReviewServiceDesc> {
  const resolver = (): ApplicationResolver => {
    if (deps.resolve) return deps.resolve;
    throw new PixelError({
      code: 'failed_precondition',
      field: 'app',
      reason: 'applications_unavailable',
      message: 'this server has no application catalogue for question sets',
    });
  };
  return {
    async listReviewQueue(req, ctx) {
      const items = await deps.reviews.queue(deps.caller(ctx), { app: req.app, limit: req.limit });
      return {
        items: items.map((i) => ({
          imageId: i.imageId,
          app: i.app,
          reason: i.reason,
          enqueuedAt: timestampFromDate(i.enqueuedAt),
          ...(i.model !== null ? { model: i.model } : {}),
          ...(i.prompt !== null ? { prompt: i.prompt } : {}),
          ...(i.score !== null ? { score: i.score } : {}),
          ...(i.passed !== null ? { passed: i.passed } : {}),
          reviews: i.reviews,
          disagreements: i.disagreements,
        })),
      };
    },
    async listImageReviews(req, ctx) {
      const reviews = await deps.reviews.imageReviews(deps.caller(ctx), req.imageId);
      return {
        reviews: reviews.map((r) => ({
          reviewer: r.reviewer,
          ...(r.verdict !== null ? { verdict: r.verdict } : {}),
          reasons: r.reasons,
          ...(r.rating !== null ? { rating: r.rating } : {}),
          ...(r.note !== null ? { note: r.note } : {}),
          createdAt: timestampFromDate(r.createdAt),
          updatedAt: timestampFromDate(r.updatedAt),
        })),
      };
    },
    async submitReview(req, ctx) {
      if (req.verdict !== '' && req.verdict !== 'approve' && req.verdict !== 'reject')
        throw invalidArgument(
          'verdict',
          `verdict must be approve, reject or empty, got ${JSON.stringify(req.verdict)}`,
        );
      await deps.reviews.review(deps.caller(ctx), {
        imageId: req.imageId,
        ...(req.verdict ? { verdict: req.verdict as ReviewVerdict } : {}),
        reasons: [...req.reasons],
        ...(req.rating !== undefined ? { rating: req.rating } : {}),
        ...(req.note !== undefined ? { note: req.note } : {}),
      });
      return {};
    },
    async submitPreference(req, ctx) {
      await deps.reviews.prefer(deps.caller(ctx), {
        imageA: req.imageA,
        imageB: req.imageB,
        preferred: req.preferred as 'a' | 'b' | 'tie',
      });
      return {};
    },
    async getReviewStats(req, ctx) {
      const actor = deps.caller(ctx);
      const by = (req.by || 'application') as 'application' | 'model' | 'judge';
      const period = (req.period || 'week') as 'day' | 'week';
      if (!['application', 'model', 'judge'].includes(by))
        throw invalidArgument('by', 'by must be application, model or judge');
      if (!['day', 'week'].includes(period)) throw invalidArgument('period', 'period must be day or week');
      const agreement = await deps.reviews.agreement(actor, { app: req.app });
      const approval = await deps.reviews.approvalRates(actor, { app: req.app, by, period });
      return {
        imagesWithSeveralReviews: agreement.images,
        reviewerPairs: agreement.pairs,
        ...(agreement.percentAgreement !== null ? { percentAgreement: agreement.percentAgreement } : {}),
        ...(agreement.kappa !== null ? { kappa: agreement.kappa } : {}),
        approval,
      };
    },
    async getQuestions(req, ctx) {
      const actor = deps.caller(ctx);
      const vars = { ...req.vars };
      const resolved = await resolver()({ app: req.app, vars, team: actor.team });
      const set = await questionsFor(
        {
          app: resolved.app,
          appVersion: resolved.appVersion,
          appDescription: resolved.app,
          vars,
          prompt: resolved.prompt,
          rubric: resolved.rubric,
        },
        { store: new QuestionStore(deps.db) },
      );
      return {
        app: resolved.app,
        appVersion: resolved.appVersion,
        writer: set.writer,
        cached: set.cached,
        questions: set.questions,
      };
    },
    async editQuestions(req, ctx) {
      const actor = deps.caller(ctx);
      const vars = { ...req.vars };
      const resolved = await resolver()({ app: req.app, vars, team: actor.team });
      const questions = req.questions.map((q) => ({
        id: q.id,
        text: q.text,
        expected: q.expected,
        category: q.category,
        critical: q.critical,
        ...(q.dependsOn ? { dependsOn: q.dependsOn } : {}),
        fixHint: q.fixHint,
        source: q.source || 'team',
      }));
      const saved = await new QuestionStore(deps.db).edit(
        actor,
        resolved.app,
        resolved.appVersion,
        vars,
        questions,
      );
      return {
        app: saved.app,
        appVersion: saved.appVersion,
        writer: saved.writer,
        cached: true,
        questions: saved.questions,
      };
    },
    async getJudgesReport(req, ctx) {
      const actor = deps.caller(ctx);
      const report = await judgesReport(deps.db, { team: actor.team, app: req.app, minKappa: req.minKappa });
      return fromJson(GetJudgesReportResponseSchema, {
        report: JSON.parse(JSON.stringify(report)) as JsonObject,
      } as JsonValue);
    },
  };
}
