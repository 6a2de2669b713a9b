import { useCallback, useEffect, useState } from 'react';
import type { ReviewQueueItem } from '../../../src/gen/pixel/v1/review_pb.ts';
import { errorText, isUnimplemented } from '../api.ts';
import { JudgeRecord } from '../components/JudgeRecord.tsx';
import { useApp, useLoad, useTitle } from '../hooks.ts';
import { Link } from '../router.tsx';
import { NotBuilt } from './NotBuilt.tsx';

/** Reason tags as the server takes them (lowercase letters, digits and "-"). */
const REASONS = [
  'wrong-item',
  'wrong-count',
  'background',
  'text-or-logo',
  'artifacts',
  'lighting',
  'composition',
];

/** Why an item is at the front of the queue (the server's names, in words). */
const DISAGREEMENT: Record<string, string> = {
  'judge-passed-people-rejected': 'the gate passed it, a reviewer rejected it',
  'judge-failed-people-approved': 'the gate failed it, a reviewer approved it',
  'judges-split': 'two judges answered one of its questions differently',
  'people-split': 'its reviewers gave different verdicts',
};

/** The review queue: approve, reject or rate each image, from the keyboard. */
export function Review() {
  useTitle('Review');
  const { clients, session } = useApp();
  const queue = useLoad((signal) => clients.review.listReviewQueue({ limit: 50 }, { signal }), [clients]);
  const [done, setDone] = useState<Set<string>>(new Set());
  const [index, setIndex] = useState(0);
  const [reasons, setReasons] = useState<string[]>([]);
  const [rating, setRating] = useState<number | undefined>();
  const [status, setStatus] = useState<{ ok?: string; error?: string }>({});

  const items = (queue.data?.items ?? []).filter((i) => !done.has(i.imageId));
  const current: ReviewQueueItem | undefined = items[Math.min(index, Math.max(0, items.length - 1))];
  const image = useLoad(
    (signal) =>
      current ? clients.images.getImage({ id: current.imageId }, { signal }) : Promise.resolve(undefined),
    [clients, current?.imageId],
  );
  const canReview = session.role !== 'viewer';
  const disputed = items.filter((i) => i.disagreements.length > 0).length;

  const submit = useCallback(
    async (verdict: 'approve' | 'reject') => {
      if (!current || !canReview) return;
      setStatus({});
      try {
        await clients.review.submitReview({
          imageId: current.imageId,
          verdict,
          reasons,
          ...(rating !== undefined && { rating }),
        });
        setDone((d) => new Set(d).add(current.imageId));
        setReasons([]);
        setRating(undefined);
        setStatus({ ok: `${verdict === 'approve' ? 'Approved' : 'Rejected'} ${current.imageId}.` });
      } catch (e) {
        setStatus({ error: errorText(e) });
      }
    },
    [clients, current, reasons, rating, canReview],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      const typing =
        target.tagName === 'TEXTAREA' ||
        target.tagName === 'SELECT' ||
        (target instanceof HTMLInputElement && target.type !== 'checkbox' && target.type !== 'radio');
      if (typing || event.metaKey || event.ctrlKey || event.altKey) return;
      if (event.key === 'a') void submit('approve');
      else if (event.key === 'r') void submit('reject');
      else if (/^[1-5]$/.test(event.key)) setRating(Number(event.key));
      else if (event.key === 'j' || event.key === 'ArrowRight')
        setIndex((i) => Math.min(i + 1, items.length - 1));
      else if (event.key === 'k' || event.key === 'ArrowLeft') setIndex((i) => Math.max(i - 1, 0));
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [submit, items.length]);

  if (queue.error && isUnimplemented(queue.errorValue)) return <NotBuilt page="review" />;

  return (
    <div className="page">
      <header className="page-head">
        <h1>Review</h1>
        <p className="muted">
          Keys: <kbd>a</kbd> approve, <kbd>r</kbd> reject, <kbd>1</kbd>–<kbd>5</kbd> rate, <kbd>j</kbd>/
          <kbd>k</kbd> next and previous. Items where the judges and people disagree come first.
        </p>
        {disputed > 0 && (
          <p className="small-text" data-testid="disputed">
            {disputed} of {items.length} waiting {disputed === 1 ? 'item has' : 'items have'} a disagreement.
          </p>
        )}
      </header>
      {queue.error && (
        <p className="error" role="alert">
          {queue.error}
        </p>
      )}
      <div aria-live="polite">
        {status.ok && <p className="ok">{status.ok}</p>}
        {status.error && (
          <p className="error" role="alert">
            {status.error}
          </p>
        )}
      </div>
      {queue.data && items.length === 0 && <p className="muted">The queue is empty.</p>}
      {current && (
        <div className="detail">
          <figure className="panel detail-image">
            {image.data ? (
              <img
                src={image.data.url}
                alt={current.prompt ?? current.imageId}
                width={image.data.width}
                height={image.data.height}
              />
            ) : (
              <div className="card placeholder" aria-hidden="true" />
            )}
            <figcaption className="muted small-text">
              {Math.min(index, items.length - 1) + 1} of {items.length} ·{' '}
              <Link to={`/images/${current.imageId}`}>{current.imageId}</Link>
              {current.disagreements.length > 0 && (
                <>
                  {' '}
                  · <span className="badge badge-adjusted">disagreement</span>
                </>
              )}
            </figcaption>
          </figure>
          <div className="detail-facts">
            <section className="panel" aria-labelledby="rv-h">
              <h2 id="rv-h">{current.app}</h2>
              {current.prompt && <p className="prompt-text">{current.prompt}</p>}
              {current.disagreements.length > 0 && (
                <div className="warning" role="note" aria-label="Disagreement">
                  <strong>Judges and people disagree:</strong>{' '}
                  {current.disagreements.map((d) => DISAGREEMENT[d] ?? d).join('; ')}.
                </div>
              )}
              <dl className="facts inline">
                <div>
                  <dt>Queued because</dt>
                  <dd>{current.reason}</dd>
                </div>
                <div>
                  <dt>Judge score</dt>
                  <dd>{current.score === undefined ? '—' : current.score.toFixed(2)}</dd>
                </div>
                <div>
                  <dt>Judge verdict</dt>
                  <dd>{current.passed === undefined ? '—' : current.passed ? 'passed' : 'failed'}</dd>
                </div>
                <div>
                  <dt>Reviews so far</dt>
                  <dd>{current.reviews}</dd>
                </div>
              </dl>
              <fieldset className="segmented">
                <legend>Reasons</legend>
                {REASONS.map((r) => (
                  <label key={r}>
                    <input
                      type="checkbox"
                      checked={reasons.includes(r)}
                      onChange={(e) =>
                        setReasons((x) => (e.target.checked ? [...x, r] : x.filter((y) => y !== r)))
                      }
                    />
                    {r}
                  </label>
                ))}
              </fieldset>
              <fieldset className="segmented">
                <legend>Rating</legend>
                {[1, 2, 3, 4, 5].map((n) => (
                  <label key={n}>
                    <input type="radio" name="rating" checked={rating === n} onChange={() => setRating(n)} />
                    {n}
                  </label>
                ))}
              </fieldset>
              <div className="actions">
                <button
                  type="button"
                  className="primary"
                  disabled={!canReview}
                  onClick={() => submit('approve')}
                >
                  Approve (a)
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={!canReview}
                  onClick={() => submit('reject')}
                >
                  Reject (r)
                </button>
              </div>
            </section>
            <section className="panel" aria-labelledby="rv-judge-h">
              <h2 id="rv-judge-h">The judge's answers</h2>
              {image.data?.judge ? (
                <JudgeRecord judge={image.data.judge} />
              ) : (
                <p className="muted">{image.data ? 'No quality gate judged this image.' : 'Loading…'}</p>
              )}
            </section>
          </div>
        </div>
      )}
    </div>
  );
}
