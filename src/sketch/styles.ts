import type { Style } from '../protocol/request.ts';
import type { BackgroundSpec } from './lexicon.ts';

/** How objects are painted: gradient shading, a radial "3D" highlight, flat fills, fills with outlines, or outlines only. */
export type PaintMode = 'shaded' | 'radial' | 'flat' | 'outlined' | 'outline';

export interface StyleLook {
  background: BackgroundSpec;
  mode: PaintMode;
  /** A soft contact shadow under each object. */
  shadow: boolean;
  /** Darkened edges over the whole picture. */
  vignette: boolean;
}

/** Each of our styles (protocol STYLES) as a backdrop and a way of painting; `default` when none is given. */
export const STYLE_LOOKS: Readonly<Record<Style | 'default', StyleLook>> = {
  default: {
    background: { top: '#f4f4f4', bottom: '#e0e0e0' },
    mode: 'shaded',
    shadow: true,
    vignette: false,
  },
  photographic: {
    background: { top: '#efece6', bottom: '#d6d0c6' },
    mode: 'shaded',
    shadow: true,
    vignette: false,
  },
  'studio-product': {
    background: { top: '#ffffff', bottom: '#ececec' },
    mode: 'shaded',
    shadow: true,
    vignette: false,
  },
  lifestyle: {
    background: { top: '#eadcc8', bottom: '#c9ad8c' },
    mode: 'shaded',
    shadow: true,
    vignette: false,
  },
  illustration: {
    background: { top: '#fdf6e3', bottom: '#fdf6e3' },
    mode: 'outlined',
    shadow: false,
    vignette: false,
  },
  'flat-vector': {
    background: { top: '#e8f1f8', bottom: '#e8f1f8' },
    mode: 'flat',
    shadow: false,
    vignette: false,
  },
  '3d-render': {
    background: { top: '#fafbfc', bottom: '#c9d3dd' },
    mode: 'radial',
    shadow: true,
    vignette: false,
  },
  cinematic: {
    background: { top: '#1f2635', bottom: '#0b0d12' },
    mode: 'shaded',
    shadow: true,
    vignette: true,
  },
  'line-art': {
    background: { top: '#ffffff', bottom: '#ffffff' },
    mode: 'outline',
    shadow: false,
    vignette: false,
  },
  anime: {
    background: { top: '#ffe8f0', bottom: '#dff3ff' },
    mode: 'outlined',
    shadow: false,
    vignette: false,
  },
};
