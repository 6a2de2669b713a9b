import { useEffect, useState } from 'react';
import type { CandidateReport, RunCell } from '../../../src/gen/pixel/v1/batches_pb.ts';
import { errorText } from '../api.ts';
import { formatCost } from '../format.ts';
import { useApp, useLoad } from '../hooks.ts';
import { Link } from '../router.tsx';
import { ScrollBox } from './Scroll.tsx';

/** Cells fetched per page (in item order); "Show more" fetches the next page. */
const PAGE_CELLS = 300;

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

export type PickSide = (side: 'a' | 'b', imageId: string) => void;

const varsLine = (vars: Record<string, string>) =>
  Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** An experiment's items × candidates: each cell's image, state, gate verdict, cost and latency. */
export function ExperimentGrid({
  runId,
  candidates,
  onPick,
  pageSize = PAGE_CELLS,
}: {
  runId: string;
  candidates: CandidateReport[];
  onPick?: PickSide | undefined;
  /** Cells per page (default PAGE_CELLS). */
  pageSize?: number | undefined;
}) {
  const { clients } = useApp();
  const cells = useLoad(
    (signal) => clients.batches.listRunCells({ id: runId, pageSize }, { signal }),
    [clients, runId, pageSize],
  );
  // Pages after the first, fetched on request.
  const [more, setMore] = useState<{ cells: RunCell[]; next?: string; loading: boolean; error?: string }>({
    cells: [],
    loading: false,
  });
  useEffect(() => {
    setMore({
      cells: [],
      loading: false,
      ...(cells.data?.nextPageToken && { next: cells.data.nextPageToken }),
    });
  }, [cells.data]);
  const showMore = () => {
    if (!more.next || more.loading) return;
    setMore((m) => ({ ...m, loading: true, error: undefined }));
    clients.batches.listRunCells({ id: runId, pageSize, pageToken: more.next }).then(
      (page) =>
        setMore((m) => ({
          cells: [...m.cells, ...page.cells],
          loading: false,
          ...(page.nextPageToken && { next: page.nextPageToken }),
        })),
      (error: unknown) => setMore((m) => ({ ...m, loading: false, error: errorText(error) })),
    );
  };
  if (cells.error)
    return (
      <p className="error" role="alert">
        {cells.error}
      </p>
    );
  if (!cells.data) return <p className="muted">Loading the grid…</p>;
  const columns = [...candidates].sort((x, y) => x.candidate - y.candidate);
  const rows = new Map<number, RunCell[]>();
  const shown = [...cells.data.cells, ...more.cells];
  for (const c of shown) rows.set(c.item, [...(rows.get(c.item) ?? []), c]);
  return (
    <>
      <h3 id={`grid-h-${runId}`}>Items × candidates</h3>
      {cells.data.total > shown.length && (
        <p className="muted small-text" aria-live="polite">
          The first {shown.length} of {cells.data.total} cells.
        </p>
      )}
      <ScrollBox className="table-wrap" label="Experiment grid">
        <table className="exp-grid">
          <thead>
            <tr>
              <th scope="col">Item</th>
              {columns.map((c) => (
                <th scope="col" key={c.candidate}>
                  {c.candidate + 1}. {c.model}
                  {c.overrides && Object.keys(c.overrides).length > 0 && (
                    <span className="block muted small-text">{JSON.stringify(c.overrides)}</span>
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[...rows.entries()].map(([item, row]) => {
              const first = row[0]!;
              return (
                <tr key={item}>
                  <th scope="row">
                    {first.externalId ?? `item ${item + 1}`}
                    <span className="block muted small-text">{varsLine(first.vars)}</span>
                  </th>
                  {columns.map((c) => {
                    const cell = row.find((r) => r.candidate === c.candidate);
                    return (
                      <td key={c.candidate}>
                        {cell ? <GridCell cell={cell} onPick={onPick} /> : <span className="muted">—</span>}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollBox>
      {more.next && (
        <p>
          <button type="button" className="secondary" onClick={showMore} disabled={more.loading}>
            {more.loading
              ? 'Loading cells…'
              : `Show ${plural(Math.min(pageSize, cells.data.total - shown.length), 'more cell')}`}
          </button>
        </p>
      )}
      {more.error && (
        <p className="error" role="alert">
          {more.error}
        </p>
      )}
    </>
  );
}

function GridCell({ cell, onPick }: { cell: RunCell; onPick?: PickSide }) {
  const { clients } = useApp();
  const imageId = cell.imageIds[0];
  const image = useLoad(
    (signal) => (imageId ? clients.images.getImage({ id: imageId }, { signal }) : Promise.resolve(undefined)),
    [clients, imageId],
  );
  const where = `item ${cell.item + 1}, candidate ${cell.candidate + 1}`;
  const verdict = cell.judgePass === undefined ? 'not gated' : cell.judgePass ? 'gate passed' : 'gate failed';
  return (
    <div className="grid-cell">
      {imageId && (
        <Link to={`/images/${imageId}`} className="grid-thumb">
          {image.data ? (
            <img
              src={image.data.url}
              alt={`${where}: ${image.data.prompt}`}
              width={image.data.width}
              height={image.data.height}
              loading="lazy"
            />
          ) : (
            <span className="muted small-text">{imageId}</span>
          )}
        </Link>
      )}
      <span className="small-text">
        <span className={`badge state-${cell.state === 'done' ? 'succeeded' : cell.state}`}>
          {cell.state}
        </span>{' '}
        <span
          className={`badge ${cell.judgePass === undefined ? '' : cell.judgePass ? 'badge-native' : 'badge-dropped'}`}
        >
          {verdict}
        </span>
      </span>
      <span className="small-text">
        {formatCost(cell.costUsd)} · {cell.latencyMs === undefined ? '—' : `${cell.latencyMs} ms`}
      </span>
      {cell.error && <span className="small-text error-text">{cell.error.message}</span>}
      {imageId && onPick && (
        <span className="actions">
          <button
            type="button"
            className="secondary small"
            aria-label={`Compare ${where} as A`}
            onClick={() => onPick('a', imageId)}
          >
            A
          </button>
          <button
            type="button"
            className="secondary small"
            aria-label={`Compare ${where} as B`}
            onClick={() => onPick('b', imageId)}
          >
            B
          </button>
        </span>
      )}
    </div>
  );
}
