import type { ProviderModule } from '../types.ts';
import { createVertexAdapter } from './adapter.ts';

/** Regional endpoint; the `global` location has no region prefix. */
export function defaultVertexBaseUrl(location: string): string {
  return location === 'global'
    ? 'https://aiplatform.googleapis.com'
    : `https://${location}-aiplatform.googleapis.com`;
}

/**
 * Env names follow @ai-sdk/google-vertex (`GOOGLE_VERTEX_PROJECT`, `GOOGLE_VERTEX_LOCATION`). The token
 * is a ready OAuth2 access token (e.g. `gcloud auth print-access-token`); service-account OAuth is not done.
 */
export const provider: ProviderModule = {
  name: 'vertex',
  env: [
    { name: 'GOOGLE_VERTEX_PROJECT', secret: false, description: 'Google Cloud project id for Vertex AI' },
    {
      name: 'GOOGLE_VERTEX_LOCATION',
      secret: false,
      description: 'Vertex AI location (default us-central1)',
    },
    {
      name: 'GOOGLE_VERTEX_ACCESS_TOKEN',
      secret: true,
      description: 'OAuth2 access token for Vertex AI (e.g. from `gcloud auth print-access-token`)',
    },
    {
      name: 'GOOGLE_VERTEX_BASE_URL',
      secret: false,
      description: 'Vertex AI base URL (default https://{location}-aiplatform.googleapis.com)',
    },
  ],
  fromEnv(env) {
    const accessToken = env.GOOGLE_VERTEX_ACCESS_TOKEN?.trim();
    const project = env.GOOGLE_VERTEX_PROJECT?.trim();
    if (!accessToken || !project) return undefined;
    const location = env.GOOGLE_VERTEX_LOCATION?.trim() || 'us-central1';
    return createVertexAdapter({
      accessToken,
      project,
      location,
      baseURL: env.GOOGLE_VERTEX_BASE_URL?.trim() || defaultVertexBaseUrl(location),
    });
  },
};
