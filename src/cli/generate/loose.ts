import type { ApplicationResolver } from '../../apps/apply.ts';
import { generate } from '../../generate/generate.ts';
import { composeModels } from '../../platform/models.ts';
import type { ServiceProgress } from '../../server/image-service.ts';
import { writeImageFiles } from './files.ts';
import type { GenerateSummary } from './summary.ts';

/**
 * `--no-store`: the images are generated and written as loose files, nothing is catalogued. No database is
 * opened, except with --app, whose versions live in the catalogue (read, never written).
 */
export async function generateLoose(
  request: Record<string, unknown>,
  options: { out: string; app: boolean; signal: AbortSignal; onProgress: (event: ServiceProgress) => void },
): Promise<GenerateSummary> {
  const run = async (applications?: { resolver: ApplicationResolver; team: string }) => {
    const models = composeModels({ env: process.env });
    const outcome = await generate(
      request,
      {
        catalog: models.catalog,
        adapter: models.adapter,
        defaultModel: models.defaultModel,
        applications: applications?.resolver,
      },
      {
        ...(applications && { team: applications.team }),
        signal: options.signal,
        onProgress: options.onProgress,
      },
    );
    const slug = outcome.route.replace(/[^A-Za-z0-9._-]+/g, '_');
    const stamp = Date.now().toString(36);
    const paths = await writeImageFiles(
      options.out,
      outcome.images.map((image) => ({
        name: `${slug}-${image.seed ?? 'noseed'}-${stamp}-${image.index}`,
        bytes: image.bytes,
        mediaType: image.mediaType,
      })),
    );
    const summary: GenerateSummary = {
      route: outcome.route,
      requested: outcome.translation.requestedModel,
      ...(outcome.translation.request.seed !== undefined && { seed: outcome.translation.request.seed }),
      images: outcome.images.map((image, i) => ({
        path: paths[i],
        mediaType: image.mediaType,
        width: image.width,
        height: image.height,
        ...(image.seed !== undefined && { seed: image.seed }),
        native: image.native,
        operations: image.operations,
      })),
      report: outcome.translation.report,
      notes: outcome.notes,
      costEstimateUsd: outcome.translation.costEstimateUsd,
      latencyMs: outcome.latencyMs,
      storedIn: { kind: 'none' },
    };
    return summary;
  };
  if (!options.app) return run();
  // Only an application run needs the catalogue (and its modules).
  const [{ withPlatform }, { LOCAL_TEAM }] = await Promise.all([
    import('../platform.ts'),
    import('../../server/auth.ts'),
  ]);
  return withPlatform((platform) => run({ resolver: platform.applications.resolver(), team: LOCAL_TEAM }));
}
