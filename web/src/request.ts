import type { MessageInitShape } from '@bufbuild/protobuf';
import type { GenerateRequestSchema } from '../../src/gen/pixel/v1/common_pb.ts';
import type { Image } from '../../src/gen/pixel/v1/images_pb.ts';
import { asObject } from './format.ts';

export const STYLES = [
  'photographic',
  'studio-product',
  'lifestyle',
  'illustration',
  'flat-vector',
  '3d-render',
  'cinematic',
  'line-art',
  'anime',
] as const;

/** The playground's form, as text fields (what the inputs hold). */
export interface PlaygroundForm {
  mode: 'model' | 'app';
  model: string;
  app: string;
  vars: Record<string, string>;
  prompt: string;
  negativePrompt: string;
  sizeMode: 'default' | 'size' | 'aspect';
  width: string;
  height: string;
  aspectRatio: string;
  style: string;
  cfgScale: string;
  seed: string;
  n: string;
  /** Run the quality gate (an application request only). */
  gate: boolean;
}

export const EMPTY_FORM: PlaygroundForm = {
  mode: 'model',
  model: '',
  app: '',
  vars: {},
  prompt: '',
  negativePrompt: '',
  sizeMode: 'default',
  width: '1024',
  height: '1024',
  aspectRatio: '1:1',
  style: '',
  cfgScale: '',
  seed: '',
  n: '4',
  gate: false,
};

type Req = MessageInitShape<typeof GenerateRequestSchema>;

const int = (text: string): number | undefined => {
  const t = text.trim();
  return t === '' || !/^-?\d+$/.test(t) ? undefined : Number(t);
};
const num = (text: string): number | undefined => {
  const t = text.trim();
  return t === '' || Number.isNaN(Number(t)) ? undefined : Number(t);
};

/** The wire request for the form; empty fields stay unset so the model's (or application's) defaults apply. */
export function requestOf(form: PlaygroundForm): Req {
  const req: Req = { model: form.model, prompt: form.mode === 'app' ? '' : form.prompt };
  if (form.mode === 'app') {
    req.app = form.app;
    req.vars = Object.fromEntries(Object.entries(form.vars).filter(([, v]) => v.trim() !== ''));
  }
  if (form.negativePrompt.trim() !== '') req.negativePrompt = form.negativePrompt;
  if (form.sizeMode === 'size') {
    req.width = int(form.width);
    req.height = int(form.height);
  } else if (form.sizeMode === 'aspect' && form.aspectRatio.trim() !== '') {
    req.aspectRatio = form.aspectRatio.trim();
  }
  if (form.style !== '') req.style = form.style;
  const cfg = num(form.cfgScale);
  if (cfg !== undefined) req.cfgScale = cfg;
  const seed = int(form.seed);
  if (seed !== undefined) req.seed = seed;
  const n = int(form.n);
  if (n !== undefined) req.n = n;
  if (form.mode === 'app' && form.gate) req.gate = { enabled: true };
  return req;
}

/** The form that makes this image again: its prompt, model and every stored parameter. */
export function formOf(image: Image): PlaygroundForm {
  const p = asObject(image.params);
  const vars = asObject(p.vars);
  const useApp = image.application !== undefined && Object.keys(vars).length > 0;
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return {
    ...EMPTY_FORM,
    mode: useApp ? 'app' : 'model',
    app: image.application ?? '',
    vars: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, text(v)])),
    model: image.model,
    prompt: image.prompt,
    negativePrompt: image.negativePrompt ?? '',
    sizeMode: p.aspectRatio ? 'aspect' : 'size',
    width: text(p.width ?? image.width),
    height: text(p.height ?? image.height),
    aspectRatio: text(p.aspectRatio ?? '1:1'),
    style: text(p.style),
    cfgScale: text(p.cfgScale),
    seed: text(image.seed),
    n: text(p.n ?? 1),
  };
}

/** Query-string form of a request (for "reuse settings" links). */
export function formToQuery(form: PlaygroundForm): string {
  return new URLSearchParams({ settings: JSON.stringify(form) }).toString();
}

export function formFromQuery(search: URLSearchParams): PlaygroundForm | undefined {
  const raw = search.get('settings');
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<PlaygroundForm>;
    return { ...EMPTY_FORM, ...parsed, vars: { ...(parsed.vars ?? {}) } };
  } catch {
    return undefined;
  }
}
