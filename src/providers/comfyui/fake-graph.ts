import type { ErrorDetail, Graph, NodeError } from './wire.ts';

/**
 * The fake ComfyUI's node library and prompt validation, after `execution.py`'s `validate_prompt`:
 * the same error types, messages and the `{ error, node_errors }` answer.
 */

type InputSpec =
  | { kind: 'link'; type: string }
  | { kind: 'INT' | 'FLOAT'; min: number; max: number; optional?: boolean }
  | { kind: 'STRING'; optional?: boolean }
  | { kind: 'COMBO'; options?: readonly string[] };

interface NodeDef {
  inputs: Record<string, InputSpec>;
  outputs: string[];
  output?: boolean;
}

const SAMPLERS = [
  'euler',
  'euler_ancestral',
  'heun',
  'dpm_2',
  'dpm_2_ancestral',
  'lms',
  'dpmpp_2s_ancestral',
  'dpmpp_sde',
  'dpmpp_2m',
  'dpmpp_2m_sde',
  'dpmpp_3m_sde',
  'ddim',
  'uni_pc',
  'lcm',
] as const;
const SCHEDULERS = [
  'normal',
  'karras',
  'exponential',
  'sgm_uniform',
  'simple',
  'ddim_uniform',
  'beta',
] as const;
const MAX_RESOLUTION = 16384;

export const NODE_DEFS: Record<string, NodeDef> = {
  CheckpointLoaderSimple: { inputs: { ckpt_name: { kind: 'COMBO' } }, outputs: ['MODEL', 'CLIP', 'VAE'] },
  LoraLoader: {
    inputs: {
      model: { kind: 'link', type: 'MODEL' },
      clip: { kind: 'link', type: 'CLIP' },
      lora_name: { kind: 'COMBO' },
      strength_model: { kind: 'FLOAT', min: -100, max: 100 },
      strength_clip: { kind: 'FLOAT', min: -100, max: 100 },
    },
    outputs: ['MODEL', 'CLIP'],
  },
  CLIPTextEncode: {
    inputs: { text: { kind: 'STRING' }, clip: { kind: 'link', type: 'CLIP' } },
    outputs: ['CONDITIONING'],
  },
  EmptyLatentImage: {
    inputs: {
      width: { kind: 'INT', min: 16, max: MAX_RESOLUTION },
      height: { kind: 'INT', min: 16, max: MAX_RESOLUTION },
      batch_size: { kind: 'INT', min: 1, max: 4096 },
    },
    outputs: ['LATENT'],
  },
  KSampler: {
    inputs: {
      model: { kind: 'link', type: 'MODEL' },
      // 0..2^64-1 on the server; JS numbers above 2^53 are inexact, which a seed check can live with.
      seed: { kind: 'INT', min: 0, max: 2 ** 64 - 1 },
      steps: { kind: 'INT', min: 1, max: 10_000 },
      cfg: { kind: 'FLOAT', min: 0, max: 100 },
      sampler_name: { kind: 'COMBO', options: SAMPLERS },
      scheduler: { kind: 'COMBO', options: SCHEDULERS },
      positive: { kind: 'link', type: 'CONDITIONING' },
      negative: { kind: 'link', type: 'CONDITIONING' },
      latent_image: { kind: 'link', type: 'LATENT' },
      denoise: { kind: 'FLOAT', min: 0, max: 1 },
    },
    outputs: ['LATENT'],
  },
  VAEDecode: {
    inputs: { samples: { kind: 'link', type: 'LATENT' }, vae: { kind: 'link', type: 'VAE' } },
    outputs: ['IMAGE'],
  },
  SaveImage: {
    inputs: { images: { kind: 'link', type: 'IMAGE' }, filename_prefix: { kind: 'STRING' } },
    outputs: [],
    output: true,
  },
  PreviewImage: { inputs: { images: { kind: 'link', type: 'IMAGE' } }, outputs: [], output: true },
};

export interface ValidationFailure {
  error: ErrorDetail;
  node_errors: Record<string, NodeError>;
}

const detail = (type: string, message: string, details = '', extra_info: Record<string, unknown> = {}) => ({
  type,
  message,
  details,
  extra_info,
});

/** Validates an API-format graph; undefined when it can run. */
export function validateGraph(
  prompt: unknown,
  options: { checkpoints?: readonly string[]; loras?: readonly string[] } = {},
): ValidationFailure | undefined {
  if (typeof prompt !== 'object' || prompt === null || Array.isArray(prompt))
    return { error: detail('no_prompt', 'No prompt provided', 'No prompt provided'), node_errors: {} };
  const graph = prompt as Record<string, { class_type?: unknown; inputs?: unknown }>;
  for (const [id, node] of Object.entries(graph)) {
    if (typeof node !== 'object' || node === null || typeof node.class_type !== 'string')
      return {
        error: detail(
          'invalid_prompt',
          'Cannot execute because a node is missing the class_type property.',
          `Node ID '#${id}'`,
        ),
        node_errors: {},
      };
    if (!NODE_DEFS[node.class_type])
      return {
        error: detail(
          'invalid_prompt',
          `Cannot execute because node ${node.class_type} does not exist.`,
          `Node ID '#${id}'`,
        ),
        node_errors: {},
      };
  }
  const outputs = Object.keys(graph).filter((id) => NODE_DEFS[graph[id]!.class_type as string]!.output);
  if (outputs.length === 0)
    return { error: detail('prompt_no_outputs', 'Prompt has no outputs'), node_errors: {} };

  const nodeErrors: Record<string, NodeError> = {};
  for (const [id, node] of Object.entries(graph)) {
    const classType = node.class_type as string;
    const errors = validateNode(graph, node.inputs, NODE_DEFS[classType]!, options);
    if (errors.length > 0) nodeErrors[id] = { errors, dependent_outputs: outputs, class_type: classType };
  }
  if (Object.keys(nodeErrors).length === 0) return undefined;
  return {
    error: detail('prompt_outputs_failed_validation', 'Prompt outputs failed validation'),
    node_errors: nodeErrors,
  };
}

function validateNode(
  graph: Record<string, { class_type?: unknown }>,
  rawInputs: unknown,
  def: NodeDef,
  options: { checkpoints?: readonly string[]; loras?: readonly string[] },
): ErrorDetail[] {
  const inputs = (typeof rawInputs === 'object' && rawInputs !== null ? rawInputs : {}) as Record<
    string,
    unknown
  >;
  const errors: ErrorDetail[] = [];
  for (const [name, spec] of Object.entries(def.inputs)) {
    const value = inputs[name];
    const info = { input_name: name };
    if (value === undefined) {
      if (!('optional' in spec && spec.optional))
        errors.push(detail('required_input_missing', 'Required input is missing', name, info));
      continue;
    }
    if (spec.kind === 'link') {
      if (
        !Array.isArray(value) ||
        value.length !== 2 ||
        typeof value[0] !== 'string' ||
        typeof value[1] !== 'number'
      ) {
        errors.push(
          detail(
            'bad_linked_input',
            'Bad linked input, must be a length-2 list of [node_id, slot_index]',
            name,
            info,
          ),
        );
        continue;
      }
      const source = graph[value[0]];
      const sourceDef = source ? NODE_DEFS[source.class_type as string] : undefined;
      const received = sourceDef?.outputs[value[1]];
      if (received !== spec.type)
        errors.push(
          detail(
            'return_type_mismatch',
            'Return type mismatch between linked nodes',
            `${name}, received_type(${received ?? `missing node ${value[0]}`}) mismatch input_type(${spec.type})`,
            { ...info, received_type: received ?? null, linked_node: value },
          ),
        );
      continue;
    }
    if (Array.isArray(value)) continue; // a link feeding a widget input (e.g. a primitive node): accepted
    if (spec.kind === 'INT' || spec.kind === 'FLOAT') {
      if (typeof value !== 'number' || (spec.kind === 'INT' && !Number.isInteger(value))) {
        errors.push(
          detail(
            'invalid_input_type',
            `Failed to convert an input value to a ${spec.kind} value`,
            `${name}, ${String(value)}`,
            info,
          ),
        );
      } else if (value < spec.min) {
        errors.push(
          detail('value_smaller_than_min', `Value ${value} smaller than min of ${spec.min}`, `${name}`, info),
        );
      } else if (value > spec.max) {
        errors.push(
          detail('value_bigger_than_max', `Value ${value} bigger than max of ${spec.max}`, `${name}`, info),
        );
      }
    } else if (spec.kind === 'STRING') {
      if (typeof value !== 'string')
        errors.push(
          detail('invalid_input_type', 'Failed to convert an input value to a STRING value', name, info),
        );
    } else if (spec.kind === 'COMBO') {
      const list =
        spec.options ??
        (name === 'ckpt_name' ? options.checkpoints : name === 'lora_name' ? options.loras : undefined);
      if (typeof value !== 'string' || (list && !list.includes(value)))
        errors.push(
          detail(
            'value_not_in_list',
            'Value not in list',
            `${name}: '${String(value)}' not in ${JSON.stringify(list ?? [])}`,
            {
              ...info,
              received_value: value,
            },
          ),
        );
    }
  }
  return errors;
}

/** Nodes in an order where every link's source runs first (the graph is small; a cycle is reported). */
export function executionOrder(graph: Graph): string[] | undefined {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string): boolean => {
    const seen = state.get(id);
    if (seen === 'done') return true;
    if (seen === 'visiting') return false;
    state.set(id, 'visiting');
    for (const value of Object.values(graph[id]?.inputs ?? {})) {
      if (Array.isArray(value) && typeof value[0] === 'string' && graph[value[0]] && !visit(value[0]))
        return false;
    }
    state.set(id, 'done');
    order.push(id);
    return true;
  };
  for (const id of Object.keys(graph)) if (!visit(id)) return undefined;
  return order;
}
