import { invalidArgument } from '../../protocol/errors.ts';
import type { Weights } from '../types.ts';
import { FAL_TRAINERS } from './fal.ts';
import type { TrainingBackend } from './types.ts';

/** Bases whose host loads a LoRA file by name (AUTOMATIC1111's `<lora:…>`, ComfyUI's LoraLoader). */
const FILE_BASES = new Set(['a1111/sdxl', 'comfyui/sdxl']);
/** A LoRA file name as those hosts list them: a relative path, no `..`, no tag characters. */
const LORA_FILE = /^(?!.*\.\.)[\w][\w .()/+-]{0,199}$/;

/** The LoRA a job registers (its `params.lora`), checked against its base. */
function importedWeights(base: string, params: Record<string, unknown>): Weights {
  const lora = typeof params.lora === 'string' ? params.lora.trim() : '';
  if (!lora) throw invalidArgument('lora', 'the import backend needs the LoRA to register (lora)');
  const fal = FAL_TRAINERS.find((t) => t.base === base);
  if (fal) {
    let url: URL | undefined;
    try {
      url = new URL(lora);
    } catch {}
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw invalidArgument(
        'lora',
        `on ${base} the LoRA is the URL of its safetensors file, got ${JSON.stringify(lora)}`,
      );
    }
    return { kind: 'fal-lora', endpoint: fal.loraEndpoint, url: url.toString(), scale: 1 };
  }
  if (!LORA_FILE.test(lora) || lora.startsWith('/')) {
    throw invalidArgument(
      'lora',
      `on ${base} the LoRA is a file name in the host's LoRA folder (letters, digits, spaces, . _ - ( ) + /, no ".."), got ${JSON.stringify(lora)}`,
    );
  }
  return { kind: 'lora-file', loraName: lora.replace(/\.safetensors$/i, '') };
}

/**
 * `import`: registers a LoRA trained elsewhere (a file already in a ComfyUI or AUTOMATIC1111 host's LoRA
 * folder, or a safetensors URL for fal's LoRA endpoints) as a fine-tune version, with no training. The rest
 * of the lifecycle is the same as for a trained one: the dataset (product photos of what it was trained on)
 * gives the evaluation its questions, the evaluation against the base decides promotion, and the registry
 * serves it through the base's LoRA route with the trigger phrase.
 */
export function createImportBackend(): TrainingBackend {
  return {
    name: 'import',
    supportsBase: (modelId) => FILE_BASES.has(modelId) || FAL_TRAINERS.some((t) => t.base === modelId),
    checkParams(modelId, params) {
      importedWeights(modelId, params);
    },
    async submit(context) {
      return { imported: String(context.job.params.lora) };
    },
    async poll(context, external) {
      return {
        state: 'succeeded',
        external,
        weights: importedWeights(context.job.baseModel, context.job.params),
      };
    },
    async cancel() {
      // Nothing runs: the job is cancelled in the row.
    },
  };
}
