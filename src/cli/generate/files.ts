import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EXTENSIONS } from './summary.ts';

/** Writes each image into `dir` (made if missing) under its own name + the media type's extension. */
export async function writeImageFiles(
  dir: string,
  images: ReadonlyArray<{ name: string; bytes: Uint8Array; mediaType: string }>,
): Promise<string[]> {
  const folder = resolve(dir);
  await mkdir(folder, { recursive: true });
  const paths: string[] = [];
  for (const image of images) {
    const path = join(folder, `${image.name}.${EXTENSIONS[image.mediaType] ?? 'bin'}`);
    await writeFile(path, image.bytes);
    paths.push(path);
  }
  return paths;
}
