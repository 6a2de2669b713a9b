export { type ParsedScene, parseScene, type SceneItem } from './parse.ts';
export { renderSketch, SKETCH_NOTE, type SketchImage, type SketchOptions } from './render.ts';
export type { SketchTune } from './scene.ts';
