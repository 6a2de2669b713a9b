import { z } from 'zod';

/** ComfyUI server API shapes (`server.py` / `execution.py`). */

/** A link from another node's output: `["<node id>", <output index>]`. */
export const LinkSchema = z.tuple([z.string(), z.number().int().nonnegative()]);

export const GraphNodeSchema = z.looseObject({
  class_type: z.string(),
  inputs: z.record(z.string(), z.unknown()).default({}),
  _meta: z.record(z.string(), z.unknown()).optional(),
});
export type GraphNode = z.infer<typeof GraphNodeSchema>;

/** An API-format workflow: node id → node. */
export const GraphSchema = z.record(z.string(), GraphNodeSchema);
export type Graph = z.infer<typeof GraphSchema>;

export const PromptRequestSchema = z.looseObject({
  prompt: z.unknown(),
  client_id: z.string().optional(),
  prompt_id: z.string().optional(),
  extra_data: z.record(z.string(), z.unknown()).optional(),
  front: z.boolean().optional(),
  number: z.number().optional(),
  partial_execution_targets: z.array(z.string()).optional(),
});

export const PromptResponseSchema = z.object({
  prompt_id: z.string().min(1),
  number: z.number(),
  node_errors: z.record(z.string(), z.unknown()).default({}),
});

export const ErrorDetailSchema = z.object({
  type: z.string(),
  message: z.string(),
  details: z.string().default(''),
  extra_info: z.record(z.string(), z.unknown()).default({}),
});
export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;

export const NodeErrorSchema = z.object({
  errors: z.array(ErrorDetailSchema),
  dependent_outputs: z.array(z.string()).default([]),
  class_type: z.string(),
});
export type NodeError = z.infer<typeof NodeErrorSchema>;

/** 400 from `POST /prompt`. */
export const PromptErrorSchema = z.object({
  error: z.union([ErrorDetailSchema, z.string()]),
  node_errors: z.record(z.string(), NodeErrorSchema).default({}),
});
export type PromptError = z.infer<typeof PromptErrorSchema>;

export const OutputImageSchema = z.object({
  filename: z.string(),
  subfolder: z.string().default(''),
  type: z.string().default('output'),
});
export type OutputImage = z.infer<typeof OutputImageSchema>;

export const HistoryEntrySchema = z.object({
  prompt: z.array(z.unknown()).optional(),
  outputs: z.record(z.string(), z.looseObject({ images: z.array(OutputImageSchema).optional() })),
  status: z
    .object({
      status_str: z.string(),
      completed: z.boolean(),
      messages: z.array(z.tuple([z.string(), z.record(z.string(), z.unknown())])).default([]),
    })
    .optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/** Queue items are `[number, prompt_id, prompt, extra_data, outputs_to_execute, ...]`. */
export const QueueSchema = z.object({
  queue_running: z.array(z.array(z.unknown())),
  queue_pending: z.array(z.array(z.unknown())),
});

/** Text frames on `/ws`. */
export const SocketMessageSchema = z.object({
  type: z.string(),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type SocketMessage = z.infer<typeof SocketMessageSchema>;

/** Known execution-error payload keys (websocket `execution_error` and history `messages`). */
export const ExecutionErrorSchema = z.looseObject({
  prompt_id: z.string().optional(),
  node_id: z.string().optional(),
  node_type: z.string().optional(),
  exception_message: z.string().default(''),
  exception_type: z.string().default(''),
});
