import type { GateSummary } from '../../quality/gate/gated-service.ts';
import type { ReportLine } from '../../translate/types.ts';

/** One image a `pixel generate` run made, however it was stored. */
export interface SummaryImage {
  /** Catalogue id (`img_…`); absent with --no-store. */
  id?: string;
  /** Where the catalogue serves it (its blob URL). */
  url?: string;
  /** The file written for it (--out, or the loose file of --no-store). */
  path?: string;
  mediaType: string;
  width: number;
  height: number;
  seed?: number;
  /** --no-store only: what the provider returned, and the post-processing applied. */
  native?: unknown;
  operations?: unknown;
}

/** What every way of running `pixel generate` (stored here, on a server, loose files) prints. */
export interface GenerateSummary {
  /** The route that made the images, and the model as requested (id or alias). */
  route: string;
  requested: string;
  seed?: number;
  images: SummaryImage[];
  report: ReportLine[];
  notes: string[];
  costEstimateUsd: number | null;
  latencyMs: number;
  /** Where the images are catalogued: this data folder's catalogue, a server's, or nowhere (--no-store). */
  storedIn: { kind: 'catalogue' } | { kind: 'server'; url: string } | { kind: 'none' };
  /** --gate: every round (prompt, answers, score) and the verdict. */
  gate?: GateSummary;
}

export const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
};
