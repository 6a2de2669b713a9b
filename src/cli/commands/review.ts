import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Actor } from '../../apps/permissions.ts';
import type { Db } from '../../catalog/db.ts';
import { platformConfigFromEnv } from '../../platform/config.ts';
import { openPlatformDatabase } from '../../platform/open.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { ReviewService } from '../../quality/review/service.ts';
import { failWith, printJson } from '../output.ts';

interface WhoFlags {
  team?: string;
  reviewer?: string;
  json?: boolean;
}

function actorOf(flags: WhoFlags): Actor {
  let name = flags.reviewer;
  if (!name) {
    try {
      name = `${userInfo().username}@cli`;
    } catch {
      name = 'cli';
    }
  }
  return { team: flags.team ?? 'local', role: 'member', name };
}

async function withReviews<T>(fn: (reviews: ReviewService, db: Db) => Promise<T>): Promise<T> {
  const db = await openPlatformDatabase(platformConfigFromEnv(process.env));
  try {
    return await fn(new ReviewService(db), db);
  } finally {
    await db.close();
  }
}

const who = (c: Command) =>
  c
    .option('--team <team>', 'the team whose queue this is (default: local, the embedded profile’s team)')
    .option('--reviewer <name>', 'who is reviewing (default: <user>@cli)')
    .option('--json', 'machine-readable output');

/**
 * `pixel review list | approve | reject | rate`: the human review queue of the quality gate,
 * straight on the catalogue database (stop an embedded server first: PGlite allows one process).
 */
export function registerReview(program: Command): void {
  const review = program
    .command('review')
    .description('human review of quality-gate results: list, approve, reject, rate');

  who(review.command('list').description('images waiting for review in the team queue'))
    .option('--app <app>', 'only this application')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (flags: WhoFlags & { app?: string; limit: string }) => {
      try {
        const items = await withReviews((r) =>
          r.queue(actorOf(flags), { app: flags.app, limit: Number(flags.limit) }),
        );
        if (flags.json) return printJson({ items });
        if (items.length === 0) return console.log('nothing to review');
        for (const i of items)
          console.log(
            `${i.imageId}  ${i.app}  ${i.reason}  score ${i.score === null ? '-' : i.score.toFixed(2)}  ${i.model ?? ''}  ${i.reviews} review(s)${i.disagreements.length > 0 ? `  disagreement: ${i.disagreements.join(', ')}` : ''}`,
          );
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  for (const verdict of ['approve', 'reject'] as const) {
    who(review.command(`${verdict} <imageId>`).description(`${verdict} an image (reason tags with --reason)`))
      .option('--reason <tag...>', 'reason tags, e.g. looks-cooked text-visible')
      .option('--rating <n>', 'also rate it 1–5')
      .option('--note <text>', 'a free note')
      .action(
        async (imageId: string, flags: WhoFlags & { reason?: string[]; rating?: string; note?: string }) => {
          try {
            const rating = flags.rating === undefined ? undefined : Number(flags.rating);
            await withReviews((r) =>
              r.review(actorOf(flags), {
                imageId,
                verdict,
                reasons: flags.reason ?? [],
                ...(rating !== undefined ? { rating } : {}),
                ...(flags.note ? { note: flags.note } : {}),
              }),
            );
            if (flags.json) printJson({ imageId, verdict, ...(rating !== undefined ? { rating } : {}) });
            else console.log(`${verdict === 'approve' ? 'approved' : 'rejected'} ${imageId}`);
          } catch (error) {
            failWith(error, Boolean(flags.json));
          }
        },
      );
  }

  who(review.command('rate <imageId> <rating>').description('rate an image 1–5')).action(
    async (imageId: string, ratingText: string, flags: WhoFlags) => {
      try {
        const rating = Number(ratingText);
        if (!Number.isInteger(rating))
          throw invalidArgument('rating', `rating must be an integer 1–5, got ${ratingText}`);
        await withReviews((r) => r.review(actorOf(flags), { imageId, rating }));
        if (flags.json) printJson({ imageId, rating });
        else console.log(`rated ${imageId} ${rating}/5`);
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    },
  );
}
