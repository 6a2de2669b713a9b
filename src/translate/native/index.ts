import type { Transport } from '../../models/schema.ts';
import type { BodyBuilder } from '../types.ts';
import { a1111 } from './a1111.ts';
import { bedrockNova, bedrockTitan } from './bedrock-amazon.ts';
import { bedrockStability } from './bedrock-stability.ts';
import { bfl } from './bfl.ts';
import { comfyui } from './comfyui.ts';
import { fal } from './fal.ts';
import { gemini } from './gemini.ts';
import { local } from './local.ts';
import { openaiImages } from './openai-images.ts';
import { replicate } from './replicate.ts';
import { stabilityV1 } from './stability-v1.ts';
import { stabilityV2beta } from './stability-v2beta.ts';
import { vertexImagen } from './vertex-imagen.ts';

/** One body builder per transport: solved native inputs → the provider's exact request body. */
export const BODY_BUILDERS: Record<Transport, BodyBuilder> = {
  'openai-images': openaiImages,
  'stability-v2beta': stabilityV2beta,
  'stability-v1': stabilityV1,
  replicate,
  fal,
  bfl,
  gemini,
  'vertex-imagen': vertexImagen,
  'bedrock-titan': bedrockTitan,
  'bedrock-nova': bedrockNova,
  'bedrock-stability': bedrockStability,
  a1111,
  comfyui,
  local,
};

export { DEFAULT_WORKFLOW } from './comfyui.ts';
export { fillWorkflow } from './comfyui-fill.ts';
