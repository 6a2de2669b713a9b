import type { ProviderModule } from '../types.ts';
import { createPixelAdapter } from './adapter.ts';

export {
  createPixelAdapter,
  type PixelAdapterOptions,
  SKETCH_MODEL_ID,
  SKETCH_TUNE_NOTE,
} from './adapter.ts';
export { parseSketchBody, type SketchBody, SketchBodySchema } from './wire.ts';

/** Always configured: the offline model needs no key, no URL and no network. */
export const provider: ProviderModule = {
  name: 'pixel',
  env: [],
  fromEnv: () => createPixelAdapter(),
};
