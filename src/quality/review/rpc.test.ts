import { Code, ConnectError, createClient, createRouterTransport } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../apps/permissions.ts';
import { type Db, openDatabase } from '../../catalog/db.ts';
import { ReviewService as ReviewServiceDesc } from '../../gen/pixel/v1/review_pb.ts';
import { PixelError } from '../../protocol/errors.ts';
import { reviewServiceImpl } from './rpc.ts';
import { ReviewService } from './service.ts';

describe('ReviewService over Connect (in-memory transport)', () => {
  let db: Db;
  let client: ReturnType<typeof createClient<typeof ReviewServiceDesc>>;
  const as = (team: string, role: Actor['role'], name: string) => ({
    headers: { 'x-team': team, 'x-role': role, 'x-name': name },
  });

  beforeAll(async () => {
    db = await openDatabase({ memory: true });
    const reviews = new ReviewService(db);
    await reviews.enqueue('img_r1', { app: 'produce', team: 'growth', reason: 'passed' });
    await reviews.enqueue('img_r2', { app: 'produce', team: 'growth', reason: 'failed-sample' });
    const impl = reviewServiceImpl({
      reviews,
      db,
      resolve: async (input) =>
        ({
          app: input.app,
          appVersion: 4,
          prompt: `one ${input.vars?.item}`,
          rubric: [
            {
              id: 'subject',
              question: 'Does the image show one {{item}}?',
              expected: 'yes',
              category: 'subject',
              critical: true,
              fixHint: 'Name it.',
            },
          ],
        }) as never,
      caller: (ctx) => ({
        team: ctx.requestHeader.get('x-team') ?? 'none',
        role: (ctx.requestHeader.get('x-role') ?? 'viewer') as Actor['role'],
        name: ctx.requestHeader.get('x-name') ?? undefined,
      }),
    });
    const transport = createRouterTransport(({ service }) => service(ReviewServiceDesc, impl), {
      router: {
        interceptors: [
          (next) => async (req) => {
            try {
              return await next(req);
            } catch (error) {
              if (PixelError.isInstance(error))
                throw new ConnectError(
                  error.message,
                  error.code === 'permission_denied'
                    ? Code.PermissionDenied
                    : error.code === 'not_found'
                      ? Code.NotFound
                      : Code.InvalidArgument,
                );
              throw error;
            }
          },
        ],
      },
    });
    client = createClient(ReviewServiceDesc, transport);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('shows an item’s questions and takes a team edit, refusing viewers', async () => {
    const shown = await client.getQuestions(
      { app: 'produce', vars: { item: 'pear' } },
      as('growth', 'viewer', 'v'),
    );
    expect(shown).toMatchObject({ app: 'produce', appVersion: 4, writer: 'rubric' });
    expect(shown.questions.map((q) => [q.id, q.text, q.category])).toEqual([
      ['subject', 'Does the image show one pear?', 'subject'],
    ]);
    const edit = {
      app: 'produce',
      vars: { item: 'pear' },
      questions: [
        {
          id: 'subject',
          text: 'Does the image show one pear?',
          expected: 'yes',
          category: 'subject',
          critical: true,
          fixHint: 'Name it.',
          source: 'rubric',
        },
        {
          id: 'ripe',
          text: 'Does the pear look ripe?',
          expected: 'yes',
          category: 'attribute',
          critical: false,
          dependsOn: 'subject',
          fixHint: 'Ripe.',
          source: '',
        },
      ],
    };
    const denied = await client.editQuestions(edit, as('growth', 'viewer', 'v')).catch((e: unknown) => e);
    expect(ConnectError.from(denied).code).toBe(Code.PermissionDenied);
    const saved = await client.editQuestions(edit, as('growth', 'member', 'ana'));
    expect(saved).toMatchObject({ writer: 'team', cached: true });
    expect(saved.questions.map((q) => [q.id, q.dependsOn, q.source])).toEqual([
      ['subject', undefined, 'rubric'],
      ['ripe', 'subject', 'team'],
    ]);
    const bad = await client
      .editQuestions(
        { ...edit, questions: [{ ...edit.questions[1]!, dependsOn: 'nothing' }] },
        as('growth', 'member', 'ana'),
      )
      .catch((e: unknown) => e);
    expect(ConnectError.from(bad).message).toMatch(/dependsOn names "nothing"/);
    const again = await client.getQuestions(
      { app: 'produce', vars: { item: 'pear' } },
      as('growth', 'viewer', 'v'),
    );
    expect(again).toMatchObject({ writer: 'team', cached: true });
  });

  it('lists the team queue, takes reviews, refuses viewers and other teams', async () => {
    const queue = await client.listReviewQueue({}, as('growth', 'viewer', 'v'));
    expect(queue.items.map((i) => [i.imageId, i.reason])).toEqual([
      ['img_r1', 'passed'],
      ['img_r2', 'failed-sample'],
    ]);
    expect((await client.listReviewQueue({}, as('other', 'admin', 'o'))).items).toEqual([]);

    const viewer = await client
      .submitReview({ imageId: 'img_r1', verdict: 'approve' }, as('growth', 'viewer', 'v'))
      .catch((e: unknown) => e);
    expect(ConnectError.from(viewer).code).toBe(Code.PermissionDenied);
    const otherTeam = await client
      .submitReview({ imageId: 'img_r1', verdict: 'approve' }, as('other', 'admin', 'o'))
      .catch((e: unknown) => e);
    expect(ConnectError.from(otherTeam).code).toBe(Code.NotFound);

    await client.submitReview(
      { imageId: 'img_r1', verdict: 'approve', rating: 5 },
      as('growth', 'member', 'ana'),
    );
    await client.submitReview({ imageId: 'img_r1', verdict: 'approve' }, as('growth', 'member', 'ben'));
    await client.submitReview(
      { imageId: 'img_r2', verdict: 'reject', reasons: ['wrong-count'] },
      as('growth', 'member', 'ana'),
    );
    await client.submitPreference(
      { imageA: 'img_r1', imageB: 'img_r2', preferred: 'a' },
      as('growth', 'member', 'ana'),
    );
    const left = await client.listReviewQueue({}, as('growth', 'member', 'ana'));
    expect(left.items).toEqual([]);

    const listed = await client.listImageReviews({ imageId: 'img_r2' }, as('growth', 'viewer', 'v'));
    expect(listed.reviews.map((r) => [r.reviewer, r.verdict, r.reasons, r.rating])).toEqual([
      ['ana', 'reject', ['wrong-count'], undefined],
    ]);
    expect(listed.reviews[0]!.createdAt).toBeDefined();
    expect((await client.listImageReviews({ imageId: 'img_r2' }, as('other', 'admin', 'o'))).reviews).toEqual(
      [],
    );

    const stats = await client.getReviewStats(
      { by: 'application', period: 'week' },
      as('growth', 'viewer', 'v'),
    );
    expect(stats).toMatchObject({ imagesWithSeveralReviews: 1, reviewerPairs: 1, percentAgreement: 1 });
    expect(stats.approval[0]).toMatchObject({ key: 'produce', reviewed: 2, approved: 1, rate: 0.5 });

    const report = await client.getJudgesReport({}, as('growth', 'viewer', 'v'));
    expect((report.report as { team?: string } | undefined)?.team).toBe('growth');
  });
});
