import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { PixelError } from '../protocol/errors.ts';
import type { DatasetFile } from './validate.ts';

/** Files read from a dataset folder at most (more is refused before reading: a dataset has at most 30). */
const MAX_FILES = 200;
const MAX_BYTES = 25 * 1024 * 1024;

/**
 * A dataset folder: every file except `.txt` ones is an image candidate (validation says which are not
 * images); `<name>.txt` next to `<name>.<ext>` is its caption. Hidden files are skipped.
 */
export async function readDatasetFolder(dir: string): Promise<DatasetFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (error) {
    throw new PixelError({
      code: 'invalid_argument',
      field: 'dir',
      message: `cannot read the dataset folder ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    });
  }
  if (names.length > MAX_FILES) {
    throw new PixelError({
      code: 'invalid_argument',
      field: 'dir',
      reason: 'dataset_size',
      message: `${dir} holds ${names.length} files; a dataset folder may hold at most ${MAX_FILES}`,
    });
  }
  const captions = new Map<string, string>();
  const files: DatasetFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path);
    if (!info.isFile()) continue;
    if (info.size > MAX_BYTES) {
      throw new PixelError({
        code: 'invalid_argument',
        field: `images.${name}`,
        reason: 'too_large',
        message: `${name} is ${info.size} bytes; at most ${MAX_BYTES} per file`,
      });
    }
    if (extname(name).toLowerCase() === '.txt') {
      captions.set(basename(name, extname(name)), (await readFile(path, 'utf8')).trim());
      continue;
    }
    files.push({ file: name, bytes: new Uint8Array(await readFile(path)) });
  }
  return files.map((f) => {
    const caption = captions.get(basename(f.file, extname(f.file)));
    return caption ? { ...f, caption } : f;
  });
}
