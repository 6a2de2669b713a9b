import type { Catalog } from '../models/catalog.ts';
import type { ModelEntry } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import type { SketchTune } from '../sketch/scene.ts';
import type { ReportLine } from '../translate/types.ts';
import type { FinetuneRepo } from './repo.ts';
import { type Finetune, finetuneModelId } from './types.ts';

/** What fal's LoRA endpoints cost (more than their bases). */
const FAL_LORA_PRICES: Record<string, ModelEntry['price']> = {
  'fal-ai/flux-lora': {
    kind: 'per_megapixel',
    usd: 0.035,
    roundUp: true,
    source:
      "fal-ai/flux-lora: $0.035 per megapixel, rounded up per image (a 2026 summary of fal's prices; not re-checked)",
    checked: '2026-12',
  },
  'fal-ai/flux-2/lora': {
    kind: 'per_megapixel',
    usd: 0.021,
    roundUp: true,
    source: "fal's model page for fal-ai/flux-2/lora: $0.021 per megapixel (LoRAs over 2 GB cost more)",
    checked: '2026-12',
  },
};

/** How a fine-tune's LoRA reaches the provider, for the report line. */
function loraRoute(entry: ModelEntry): string {
  const lora = entry.lora!;
  return entry.provider === 'fal'
    ? `served by ${entry.providerModelId} with loras [{ path: ${lora.name}, scale: ${lora.strength} }]`
    : `LoraLoader ${lora.name} (strength ${lora.strength}) inserted after the checkpoint loader`;
}

const VERSION_ID = /^ft\/([a-z0-9][a-z0-9._-]{0,62})\/v(\d+)$/;
const NAME_ID = /^ft\/([a-z0-9][a-z0-9._-]{0,62})$/;

/**
 * The trigger phrase in a prompt, DreamBooth style: the class noun gets the trigger token in front of it
 * ("a photo of a ribeye steak" → "a photo of a TOK ribeye steak"); a prompt that does not name the class
 * is prefixed with "a photo of TOK <class noun>, "; a prompt that already has the token is left alone.
 */
export function insertTrigger(prompt: string, trigger: string, classNoun: string): string {
  const words = new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(trigger)}(?=$|[^\\p{L}\\p{N}])`, 'u');
  if (words.test(prompt)) return prompt;
  const noun = new RegExp(`(^|[^\\p{L}\\p{N}])(${escapeRegExp(classNoun)})(?=$|[^\\p{L}\\p{N}])`, 'iu');
  if (noun.test(prompt))
    return prompt.replace(noun, (_m, lead: string, found: string) => `${lead}${trigger} ${found}`);
  return `a photo of ${trigger} ${classNoun}, ${prompt}`;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Trained fine-tunes as catalogue models, held in memory (catalogue lookups are synchronous) and
 * refreshed from the table whenever this process changes one (`refresh()`; other processes see a change on
 * their next refresh). `ft/<name>/v<N>` is one trained version; `ft/<name>` is the promoted one, the only
 * form application routing uses.
 */
export class FinetuneRegistry {
  readonly #base: Catalog;
  #versions = new Map<string, Finetune>();
  #promoted = new Map<string, Finetune>();
  #entries = new Map<string, ModelEntry>();

  constructor(base: Catalog) {
    this.#base = base;
  }

  async refresh(repo: FinetuneRepo): Promise<void> {
    const versions = new Map<string, Finetune>();
    const promoted = new Map<string, Finetune>();
    const entries = new Map<string, ModelEntry>();
    for (const job of await repo.servable()) {
      const base = this.#base.get(job.baseModel);
      if (!base) continue;
      const versionId = finetuneModelId(job.name, job.version);
      versions.set(versionId, job);
      entries.set(versionId, this.#entry(versionId, job, base));
      if (job.promoted && job.state === 'succeeded') {
        const id = finetuneModelId(job.name);
        promoted.set(id, job);
        entries.set(id, this.#entry(id, job, base));
      }
    }
    this.#versions = versions;
    this.#promoted = promoted;
    this.#entries = entries;
  }

  /** The fine-tune a catalogue id serves (`ft/<name>` or `ft/<name>/v<N>`), if it is one. */
  finetuneFor(modelId: string): Finetune | undefined {
    return this.#promoted.get(modelId) ?? this.#versions.get(modelId);
  }

  /** The learned look a `pixel/sketch-tune` model draws in. */
  tuneFor(modelId: string): SketchTune | undefined {
    const job = this.finetuneFor(modelId);
    return job?.weights?.kind === 'sketch-tune' ? job.weights.tune : undefined;
  }

  /** The base catalogue with every trained fine-tune added. */
  catalog(): Catalog {
    const base = this.#base;
    return {
      get: (id) => this.#entries.get(id) ?? base.get(id),
      list: () => [...base.list(), ...this.#entries.values()],
      aliases: () => base.aliases(),
      resolve: (name) => {
        const requested = name.trim();
        if (!requested.startsWith('ft/')) return base.resolve(requested);
        const entry = this.#entries.get(requested);
        if (entry) return { requested, routes: [entry] };
        throw this.#unknown(requested);
      },
      adjustPrompt: (modelId, prompt) => this.adjustPrompt(modelId, prompt),
    };
  }

  adjustPrompt(modelId: string, prompt: string): { prompt: string; line: ReportLine } | undefined {
    const job = this.finetuneFor(modelId);
    if (!job) return undefined;
    const triggered = insertTrigger(prompt, job.trigger, job.classNoun);
    const entry = this.#entries.get(modelId);
    // AUTOMATIC1111/Forge load a LoRA named in the prompt; ComfyUI and fal take it in the request (entry.lora).
    const lora =
      job.weights?.kind === 'lora-file' && entry?.provider === 'a1111'
        ? `<lora:${job.weights.loraName}:1>`
        : undefined;
    const sent = lora && !triggered.includes(lora) ? `${triggered} ${lora}` : triggered;
    const applied = entry?.lora ? `; ${loraRoute(entry)}` : '';
    return {
      prompt: sent,
      line: {
        param: 'prompt',
        status: sent === prompt ? 'native' : 'adjusted',
        requested: prompt,
        sent,
        note:
          sent === prompt
            ? `fine-tune ${modelId}: the prompt already has trigger token "${job.trigger}"${applied}`
            : `fine-tune ${modelId}: trigger phrase "${job.trigger} ${job.classNoun}" inserted${lora ? `, LoRA ${lora} added` : ''}${applied}`,
      },
    };
  }

  #unknown(requested: string): PixelError {
    const name = NAME_ID.exec(requested)?.[1] ?? VERSION_ID.exec(requested)?.[1];
    const known = name !== undefined && [...this.#versions.values()].some((v) => v.name === name);
    return new PixelError({
      code: 'not_found',
      field: 'model',
      reason: 'unknown_model',
      message: known
        ? `fine-tune ${requested} is not servable: ${NAME_ID.test(requested) ? 'no version of it is promoted' : 'no such trained version'} (pixel finetune list)`
        : `unknown fine-tune "${requested}" (pixel finetune list shows the trained ones)`,
    });
  }

  #entry(id: string, job: Finetune, base: ModelEntry): ModelEntry {
    const weights = job.weights;
    return {
      ...base,
      // Replicate: the trained version of the destination model is what runs.
      ...(weights?.kind === 'replicate-version' && { providerModelId: weights.version }),
      // fal: the base's LoRA endpoint, with the trained weights in `loras`.
      ...(weights?.kind === 'fal-lora' && {
        providerModelId: weights.endpoint,
        lora: { name: weights.url, strength: weights.scale },
        ...(FAL_LORA_PRICES[weights.endpoint] && { price: FAL_LORA_PRICES[weights.endpoint] }),
      }),
      // ComfyUI: a LoraLoader between the checkpoint loader and its MODEL/CLIP consumers.
      ...(weights?.kind === 'lora-file' &&
        base.provider === 'comfyui' && { lora: { name: weights.loraName, strength: 1 } }),
      id,
      displayName: `${job.name} v${job.version} (fine-tune of ${base.id})`,
      description: `${job.category} fine-tune of ${base.id} on ${job.backend}: "${job.trigger} ${job.classNoun}"`,
      status: { state: 'active' },
      notes: [
        ...base.notes,
        `fine-tune ${job.name} v${job.version}: base ${base.id}, backend ${job.backend}, trigger "${job.trigger}", class "${job.classNoun}", category ${job.category}${job.promoted ? ', promoted' : ''}`,
      ],
    };
  }
}
