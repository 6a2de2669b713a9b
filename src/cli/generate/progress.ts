import type { ServiceProgress } from '../../server/image-service.ts';

/** Turns pipeline progress into the one-line terminal indicator. */
export function progressReporter(write: (text: string) => void): (event: ServiceProgress) => void {
  return (event) => {
    if (event.stage === 'generating') {
      const p = event.provider;
      const detail = p
        ? ` ${p.status}${p.fraction !== undefined ? ` ${Math.round(p.fraction * 100)}%` : ''}`
        : '';
      write(`generating on ${event.route}: call ${event.call}/${event.calls}${detail}`);
    } else if (event.stage === 'post-processing') {
      write(`post-processing ${event.done}/${event.total}`);
    } else if (event.stage === 'judging') {
      write(`judging round ${event.round}/${event.maxRounds}: ${event.questions} questions`);
    } else if (event.stage === 'stored') {
      write(`stored ${event.count}`);
    }
  };
}
