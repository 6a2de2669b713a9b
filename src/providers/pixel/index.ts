import type { ProviderModule } from '../types.ts';
import { createPixelAdapter } from './adapter.ts';

export { createPixelAdapter, SKETCH_MODEL_ID } from './adapter.ts';
export { parseSketchBody, type SketchBody, SketchBodySchema } from './wire.ts';

/** Always configured: the offline model needs no key, no URL and no network. */
export const provider: ProviderModule = {
  name: 'pixel',
  env: [],
  fromEnv: () => createPixelAdapter(),
};
