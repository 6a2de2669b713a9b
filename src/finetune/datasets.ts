import type { Db } from '../catalog/db.ts';
import { newId } from '../catalog/ids.ts';
import { ImageRepo } from '../catalog/images.ts';
import { PixelError } from '../protocol/errors.ts';
import type { BlobStore } from '../storage/types.ts';
import { CAPTION_MODES, type Captioner, captionImages, createInspectCaptioner } from './captions.ts';
import { packZip } from './pack.ts';
import {
  type CheckedImage,
  type DatasetFile,
  type DatasetRules,
  DEFAULT_RULES,
  validateDataset,
} from './validate.ts';

/** One image of a training dataset: a catalogue image (an upload row, or an approved image) and its caption. */
export interface DatasetImage {
  file: string;
  imageId: string;
  key: string;
  sha256: string;
  mediaType: string;
  width: number;
  height: number;
  hash: string;
  caption?: string;
  /** Who wrote the caption when a model did (`pixel/inspect`, `anthropic/claude-haiku-4-5`); absent for a person's. */
  captionBy?: string;
}

export interface FinetuneDataset {
  id: string;
  team: string;
  name: string;
  category: string;
  source: string;
  images: DatasetImage[];
  createdMs: number;
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function checkName(field: string, value: string): string {
  if (!NAME_RE.test(value)) {
    throw new PixelError({
      code: 'invalid_argument',
      field,
      message: `${field} must be 1–63 lowercase letters, digits, ".", "_" or "-" starting with a letter or digit, got ${JSON.stringify(value)}`,
    });
  }
  return value;
}

interface Row {
  id: string;
  team: string;
  name: string;
  category: string;
  source: string;
  images: DatasetImage[] | string;
  created_ms: string | number;
}

const fromRow = (r: Row): FinetuneDataset => ({
  id: r.id,
  team: r.team,
  name: r.name,
  category: r.category,
  source: r.source,
  images: typeof r.images === 'string' ? (JSON.parse(r.images) as DatasetImage[]) : r.images,
  createdMs: Number(r.created_ms),
});

/**
 * Training datasets: validated product images kept in the blob store, each one a catalogue image (uploads
 * become `upload` rows, so the store's sweeper keeps their bytes and `/files/` serves them to trainers).
 */
export class FinetuneDatasets {
  readonly #db: Db;
  readonly #store: BlobStore;
  readonly #rules: DatasetRules;
  readonly #now: () => number;
  readonly #captioner: () => Captioner;

  constructor(deps: {
    db: Db;
    store: BlobStore;
    rules?: DatasetRules;
    now?: () => number;
    /** Who writes captions when a dataset asks for `vlm` ones (default the pixel/inspect stand-in). */
    captioner?: () => Captioner;
  }) {
    this.#db = deps.db;
    this.#store = deps.store;
    this.#rules = deps.rules ?? DEFAULT_RULES;
    this.#now = deps.now ?? Date.now;
    this.#captioner = deps.captioner ?? createInspectCaptioner;
  }

  /**
   * With `captions: 'vlm'`, every image without a caption a person wrote gets one from the captioner
   * (a catalogue image's prompt is replaced: it says what was asked for, not what is in the picture).
   */
  async #caption<T extends CheckedImage>(
    images: T[],
    captions: string | undefined,
    category: string,
  ): Promise<Array<T & { captionBy?: string }>> {
    if (captions === undefined) return images;
    if (!(CAPTION_MODES as readonly string[]).includes(captions)) {
      throw new PixelError({
        code: 'invalid_argument',
        field: 'captions',
        message: `captions must be one of ${CAPTION_MODES.join(', ')} (or absent: captions from the files), got ${JSON.stringify(captions)}`,
      });
    }
    return captionImages(images, this.#captioner(), category);
  }

  /** A dataset from uploaded files (a folder's images with their `.txt` captions). */
  async createFromFiles(input: {
    team: string;
    name: string;
    category: string;
    source: string;
    files: readonly DatasetFile[];
    /** `vlm`: images without a caption file get one from a vision model (see #caption). */
    captions?: string;
  }): Promise<FinetuneDataset> {
    checkName('name', input.name);
    checkName('category', input.category);
    await this.#refuseTaken(input.team, input.name);
    const checked = await this.#caption(
      await validateDataset(input.files, this.#rules),
      input.captions,
      input.category,
    );
    const repo = new ImageRepo(this.#db);
    const images: DatasetImage[] = [];
    for (const image of checked) {
      const blob = await this.#store.put(image.bytes, { mediaType: image.mediaType });
      const row = await repo.insert({
        team: input.team,
        model: 'upload',
        route: 'upload',
        provider: 'upload',
        blobKey: blob.key,
        sha256: blob.sha256,
        byteSize: image.bytes.byteLength,
        mediaType: image.mediaType,
        width: image.width,
        height: image.height,
        prompt: image.caption ?? '',
        params: { source: 'upload', use: 'finetune dataset', dataset: input.name, file: image.file },
      });
      images.push({
        file: image.file,
        imageId: row.id,
        key: blob.key,
        sha256: blob.sha256,
        mediaType: image.mediaType,
        width: image.width,
        height: image.height,
        hash: image.hash,
        ...(image.caption && { caption: image.caption }),
        ...(image.captionBy && { captionBy: image.captionBy }),
      });
    }
    return this.#insert(input, images);
  }

  /**
   * A dataset from the catalogue: the team's images a person accepted whose prompt contains `query`
   * (newest first, at most the maximum), each captioned with its prompt.
   */
  async createFromCatalog(input: {
    team: string;
    name: string;
    category: string;
    query: string;
    application?: string;
    captions?: string;
  }): Promise<FinetuneDataset> {
    checkName('name', input.name);
    checkName('category', input.category);
    await this.#refuseTaken(input.team, input.name);
    const found = await new ImageRepo(this.#db).list({
      team: input.team,
      accepted: true,
      promptContains: input.query,
      ...(input.application !== undefined && { application: input.application }),
      limit: this.#rules.maxImages,
    });
    const files: Array<DatasetFile & { record: (typeof found.images)[number] }> = [];
    for (const record of found.images) {
      const blob = await this.#store.get(record.blobKey);
      if (!blob) continue;
      files.push({ file: record.id, bytes: blob.bytes, caption: record.prompt, record });
    }
    if (files.length < this.#rules.minImages) {
      throw new PixelError({
        code: 'failed_precondition',
        field: 'query',
        reason: 'dataset_size',
        message: `the catalogue has ${files.length} accepted image(s) of team ${input.team} whose prompt contains ${JSON.stringify(input.query)}; a dataset needs at least ${this.#rules.minImages}`,
      });
    }
    const validated = await validateDataset(files, this.#rules);
    const checked = await this.#caption<CheckedImage>(
      input.captions === undefined
        ? validated
        : validated.map(({ caption: _prompt, ...image }): CheckedImage => image),
      input.captions,
      input.category,
    );
    const images = checked.map((image, i): DatasetImage => {
      const record = files[i]!.record;
      return {
        file: image.file,
        imageId: record.id,
        key: record.blobKey,
        sha256: image.sha256,
        mediaType: image.mediaType,
        width: image.width,
        height: image.height,
        hash: image.hash,
        ...(image.caption && { caption: image.caption }),
        ...(image.captionBy && { captionBy: image.captionBy }),
      };
    });
    return this.#insert({ ...input, source: `catalog:${input.query}` }, images);
  }

  async get(team: string, name: string): Promise<FinetuneDataset> {
    const rows = await this.#db.query<Row>('SELECT * FROM finetune_datasets WHERE team = $1 AND name = $2', [
      team,
      name,
    ]);
    if (!rows[0]) {
      throw new PixelError({
        code: 'not_found',
        field: 'dataset',
        message: `no fine-tune dataset named ${name}`,
      });
    }
    return fromRow(rows[0]);
  }

  async getById(id: string): Promise<FinetuneDataset | undefined> {
    const rows = await this.#db.query<Row>('SELECT * FROM finetune_datasets WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(team: string): Promise<FinetuneDataset[]> {
    const rows = await this.#db.query<Row>(
      'SELECT * FROM finetune_datasets WHERE team = $1 ORDER BY created_ms DESC, id DESC',
      [team],
    );
    return rows.map(fromRow);
  }

  /** The bytes of a dataset's images, in order. */
  async bytes(dataset: FinetuneDataset): Promise<Uint8Array[]> {
    return Promise.all(
      dataset.images.map(async (image) => {
        const blob = await this.#store.get(image.key);
        if (!blob) {
          throw new PixelError({
            code: 'failed_precondition',
            field: 'dataset',
            message: `image ${image.file} of dataset ${dataset.name} is missing from the blob store`,
          });
        }
        return blob.bytes;
      }),
    );
  }

  /** The dataset packed as a zip with `.txt` captions (Replicate's `input_images`, fal's `images_data_url`). */
  zip(dataset: FinetuneDataset): Promise<Uint8Array> {
    return packZip(this.#store, dataset.images);
  }

  async #refuseTaken(team: string, name: string): Promise<void> {
    const rows = await this.#db.query('SELECT 1 FROM finetune_datasets WHERE team = $1 AND name = $2', [
      team,
      name,
    ]);
    if (rows.length > 0) {
      throw new PixelError({
        code: 'already_exists',
        field: 'name',
        message: `a fine-tune dataset named ${name} already exists`,
      });
    }
  }

  async #insert(
    input: { team: string; name: string; category: string; source: string },
    images: DatasetImage[],
  ): Promise<FinetuneDataset> {
    const dataset: FinetuneDataset = {
      id: newId('ftd'),
      team: input.team,
      name: input.name,
      category: input.category,
      source: input.source,
      images,
      createdMs: this.#now(),
    };
    await this.#db.query(
      `INSERT INTO finetune_datasets (id, team, name, category, source, images, created_ms)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
      [
        dataset.id,
        dataset.team,
        dataset.name,
        dataset.category,
        dataset.source,
        JSON.stringify(images),
        dataset.createdMs,
      ],
    );
    return dataset;
  }
}
