import { isUnimplemented } from '../api.ts';
import { formatDate } from '../format.ts';
import { useApp, useLoad } from '../hooks.ts';
import { ScrollBox } from './Scroll.tsx';

/** People's review verdicts of one image: who, approve or reject, rating, reason tags, note and when. */
export function ImageReviews({ imageId }: { imageId: string }) {
  const { clients } = useApp();
  const reviews = useLoad(
    (signal) => clients.review.listImageReviews({ imageId }, { signal }),
    [clients, imageId],
  );
  if (reviews.error && isUnimplemented(reviews.errorValue))
    return <p className="muted">This server has no review service, so there are no review verdicts.</p>;
  if (reviews.error)
    return (
      <p className="error" role="alert">
        {reviews.error}
      </p>
    );
  if (!reviews.data) return <p className="muted">Loading reviews…</p>;
  const list = reviews.data.reviews;
  if (list.length === 0) return <p className="muted">Nobody has reviewed this image yet.</p>;
  return (
    <ScrollBox className="table-wrap" label="Verdicts by reviewer">
      <table>
        <thead>
          <tr>
            <th scope="col">Reviewer</th>
            <th scope="col">Verdict</th>
            <th scope="col" className="num">
              Rating
            </th>
            <th scope="col">Reasons</th>
            <th scope="col">Note</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {list.map((r) => (
            <tr key={r.reviewer}>
              <th scope="row">{r.reviewer}</th>
              <td>
                {r.verdict ? (
                  <span className={`badge ${r.verdict === 'approve' ? 'badge-native' : 'badge-dropped'}`}>
                    {r.verdict === 'approve' ? 'approved' : 'rejected'}
                  </span>
                ) : (
                  'rated only'
                )}
              </td>
              <td className="num">{r.rating ?? '—'}</td>
              <td>{r.reasons.length > 0 ? r.reasons.join(', ') : '—'}</td>
              <td>{r.note ?? ''}</td>
              <td>{formatDate(r.updatedAt ?? r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}
