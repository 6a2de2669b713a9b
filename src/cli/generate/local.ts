import type { Platform } from '../../platform/compose.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import type { Caller, ServiceProgress } from '../../server/image-service.ts';
import { writeImageFiles } from './files.ts';
import type { GenerateSummary } from './summary.ts';

/** The CLI acts as the embedded server's anonymous local caller: team `local`, role member. */
export const LOCAL_CALLER: Caller = { team: LOCAL_TEAM, role: 'member' };

/**
 * Generates and stores through the same use case as the server (ids, lineage, catalogue rows, blobs), then
 * writes copies of the stored bytes (lineage included) into `out` when asked.
 */
export async function generateStored(
  platform: Platform,
  request: Record<string, unknown>,
  options: { out?: string; signal: AbortSignal; onProgress: (event: ServiceProgress) => void },
): Promise<GenerateSummary> {
  const started = performance.now();
  const result = await platform.images.generateAndStore(request, LOCAL_CALLER, {
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const latencyMs = performance.now() - started;
  const bytes = result.bytes ?? [];
  const paths =
    options.out === undefined
      ? []
      : await writeImageFiles(
          options.out,
          result.images.map((image, i) => ({ name: image.id, bytes: bytes[i]!, mediaType: image.mediaType })),
        );
  const seed = result.images[0]?.params.seed;
  return {
    route: result.route,
    requested: result.model,
    ...(typeof seed === 'number' && { seed }),
    images: result.images.map((image, i) => ({
      id: image.id,
      url: image.url,
      ...(paths[i] !== undefined && { path: paths[i] }),
      mediaType: image.mediaType,
      width: image.width,
      height: image.height,
      ...(image.seed !== null && { seed: image.seed }),
    })),
    report: result.report,
    notes: result.notes,
    costEstimateUsd: result.costEstimateUsd,
    latencyMs,
    storedIn: { kind: 'catalogue' },
    ...('gate' in result && result.gate !== undefined && { gate: result.gate as GenerateSummary['gate'] }),
  };
}
