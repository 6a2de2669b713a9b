import type { ProviderModule } from '../types.ts';
import { createComfyUIAdapter } from './adapter.ts';

/** A self-hosted ComfyUI server; configured only by its URL. */
export const provider: ProviderModule = {
  name: 'comfyui',
  env: [
    {
      name: 'COMFYUI_BASE_URL',
      secret: false,
      description: 'ComfyUI address, e.g. http://127.0.0.1:8188 (unset: off)',
    },
    {
      name: 'COMFYUI_API_KEY',
      secret: true,
      description: 'Bearer token for a ComfyUI behind an authenticating proxy (optional)',
    },
    {
      name: 'COMFYUI_PROGRESS',
      secret: false,
      description: '`websocket` (default: /ws events, polling fallback) or `poll` (GET /history only)',
    },
  ],
  fromEnv(env) {
    const baseURL = env.COMFYUI_BASE_URL?.trim();
    if (!baseURL) return undefined;
    return createComfyUIAdapter({
      baseURL,
      apiKey: env.COMFYUI_API_KEY?.trim() || undefined,
      progress: env.COMFYUI_PROGRESS?.trim() === 'poll' ? 'poll' : 'websocket',
    });
  },
};
