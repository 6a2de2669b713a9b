import type { Style } from '../protocol/request.ts';

/** Prompt fragments that stand in for a style on models without a native preset. Data, not logic. */
export const STYLE_FRAGMENTS: Record<Style, string> = {
  photographic: 'professional photograph, natural light, realistic detail, sharp focus',
  'studio-product':
    'studio product photograph, clean seamless background, softbox lighting, centered composition, high detail',
  lifestyle: 'lifestyle photograph, real-life setting, warm natural light, shallow depth of field',
  illustration: 'detailed illustration, clean lines, harmonious colours',
  'flat-vector': 'flat vector illustration, simple shapes, solid colours, no gradients',
  '3d-render': '3D render, soft global illumination, smooth materials',
  cinematic: 'cinematic still, dramatic lighting, wide dynamic range, film grain',
  'line-art': 'line art drawing, black ink outlines on white, no shading',
  anime: 'anime style illustration, cel shading, vivid colours',
};
