import { PixelError } from '../../protocol/errors.ts';

/**
 * Fills an API-format ComfyUI workflow template. A string input that is exactly `{{name}}` is replaced
 * by the value (numbers stay numbers); any other string is left alone. Placeholders Pixel fills:
 * prompt, negative_prompt, seed, steps, cfg, width, height, batch_size, checkpoint, and for LoRA
 * templates lora, lora_strength.
 *
 * LoRA: when `lora` is given and the template has no LoraLoader, one is inserted after the
 * checkpoint loader (MODEL and CLIP consumers are rewired through it). When the template already has
 * a LoraLoader whose `lora_name` is `{{lora}}`, it is filled; with no `lora` given that node is
 * bypassed (its consumers are rewired to its inputs) so the same template serves both cases.
 */
export type WorkflowNode = { class_type: string; inputs: Record<string, unknown>; _meta?: unknown };
export type Workflow = Record<string, WorkflowNode>;
export type Link = [string, number];

export interface FillValues {
  [placeholder: string]: string | number | undefined;
}

const PLACEHOLDER = /^\{\{\s*([a-z_]+)\s*\}\}$/;

export function fillWorkflow(
  template: Workflow,
  values: FillValues,
  lora?: { name: string; strength?: number },
): Workflow {
  const plan = planFor(template);
  let graph = cloneGraph(template);
  if (plan.loraNode && !lora) graph = bypass(graph, plan.loraNode);
  else if (!plan.loraNode && lora) graph = insertLora(graph, lora);
  const all: FillValues = { ...values, lora: lora?.name, lora_strength: lora?.strength ?? 1 };
  for (const slot of plan.slots) {
    const node = graph[slot.node];
    if (!node) continue; // the bypassed LoRA node
    const filled = all[slot.name];
    if (filled === undefined) {
      throw new PixelError({
        code: 'internal',
        reason: 'body_builder',
        message: `ComfyUI workflow node ${slot.node} (${node.class_type}).${slot.input}: no value for placeholder {{${slot.name}}}`,
      });
    }
    node.inputs[slot.input] = filled;
  }
  return graph;
}

interface FillPlan {
  loraNode?: string;
  slots: Array<{ node: string; input: string; name: string }>;
}

// Templates are immutable data, so where their placeholders sit is worked out once per template.
const plans = new WeakMap<Workflow, FillPlan>();

function planFor(template: Workflow): FillPlan {
  let plan = plans.get(template);
  if (plan) return plan;
  const loraNode = Object.entries(template).find(
    ([, node]) => node.class_type === 'LoraLoader' && isPlaceholder(node.inputs.lora_name, 'lora'),
  )?.[0];
  const slots: FillPlan['slots'] = [];
  for (const [id, node] of Object.entries(template)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      const match = typeof value === 'string' ? PLACEHOLDER.exec(value) : null;
      if (match) slots.push({ node: id, input, name: match[1]! });
    }
  }
  plan = { slots, ...(loraNode !== undefined && { loraNode }) };
  plans.set(template, plan);
  return plan;
}

/**
 * Nodes and their input maps are copied; input values are primitives or link pairs that are only ever
 * replaced, never mutated, so they can be shared. Much cheaper than structuredClone on every request.
 */
function cloneGraph(template: Workflow): Workflow {
  const graph: Workflow = {};
  for (const id in template) {
    const node = template[id]!;
    graph[id] = { ...node, inputs: { ...node.inputs } };
  }
  return graph;
}

function isPlaceholder(value: unknown, name: string): boolean {
  return typeof value === 'string' && PLACEHOLDER.exec(value)?.[1] === name;
}

function isLink(value: unknown): value is Link {
  return (
    Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number'
  );
}

/** Replaces every link for which `map` returns a new target. */
function rewire(graph: Workflow, skip: string, map: (link: Link) => Link | undefined): void {
  for (const [id, node] of Object.entries(graph)) {
    if (id === skip) continue;
    for (const [input, value] of Object.entries(node.inputs)) {
      if (!isLink(value)) continue;
      const next = map(value);
      if (next) node.inputs[input] = next;
    }
  }
}

function insertLora(graph: Workflow, lora: { name: string; strength?: number }): Workflow {
  const checkpoint = Object.entries(graph).find(([, node]) => node.class_type === 'CheckpointLoaderSimple');
  if (!checkpoint) {
    throw new PixelError({
      code: 'internal',
      reason: 'body_builder',
      message: 'ComfyUI workflow has no CheckpointLoaderSimple to attach a LoRA to',
    });
  }
  const [ckpt] = checkpoint;
  const id = String(
    Math.max(
      0,
      ...Object.keys(graph)
        .map((k) => Number(k))
        .filter(Number.isFinite),
    ) + 1,
  );
  rewire(graph, id, ([from, index]) =>
    from === ckpt && (index === 0 || index === 1) ? [id, index] : undefined,
  );
  graph[id] = {
    class_type: 'LoraLoader',
    inputs: {
      model: [ckpt, 0],
      clip: [ckpt, 1],
      lora_name: lora.name,
      strength_model: lora.strength ?? 1,
      strength_clip: lora.strength ?? 1,
    },
  };
  return graph;
}

function bypass(graph: Workflow, loraId: string): Workflow {
  const node = graph[loraId]!;
  const model = node.inputs.model;
  const clip = node.inputs.clip;
  rewire(graph, loraId, ([from, index]) => {
    if (from !== loraId) return undefined;
    const source = index === 0 ? model : clip;
    return isLink(source) ? source : undefined;
  });
  delete graph[loraId];
  return graph;
}
