import type { Catalog } from '../models/catalog.ts';
import type { ReportLine } from '../translate/types.ts';

/** What a streamed request gets of the partial images it asked for, and the report line that says so. */
export interface PartialPlan {
  /** Partial images to ask the provider for (0: the model sends none here). */
  count: number;
  line: ReportLine;
}

/**
 * Partial images a stream asks for (0–3), against what the model sends (catalogue field `partialImages`,
 * of the first route the name resolves to). Undefined when none were asked for.
 */
export function partialPlan(asked: number, model: string, catalog: Catalog): PartialPlan | undefined {
  if (asked === 0) return undefined;
  const entry = catalog.resolve(model).routes[0];
  const max = entry?.partialImages ?? 0;
  if (max === 0) {
    return {
      count: 0,
      line: {
        param: 'partial_images',
        status: 'dropped',
        requested: asked,
        note: `${entry?.id ?? model} sends no partial images here; the final image is streamed`,
      },
    };
  }
  const count = Math.min(asked, max);
  return {
    count,
    line: {
      param: 'partial_images',
      status: count === asked ? 'native' : 'adjusted',
      requested: asked,
      sent: count,
      note: `up to ${count} partial image${count === 1 ? '' : 's'} streamed while the first image is made`,
    },
  };
}
