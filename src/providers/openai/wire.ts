import { z } from 'zod';

/**
 * OpenAI Images API wire shapes (openai-openapi `CreateImageRequest`,
 * `CreateImageEditRequest`, `ImagesResponse`, `ErrorResponse`). The real API rejects unknown
 * parameters, so the request schemas are strict.
 */

export const GPT_IMAGE_SIZES = ['1024x1024', '1536x1024', '1024x1536', 'auto'] as const;
export const DALLE2_SIZES = ['256x256', '512x512', '1024x1024'] as const;
export const DALLE3_SIZES = ['1024x1024', '1792x1024', '1024x1792'] as const;
export const EDIT_SIZES = ['256x256', '512x512', '1024x1024', '1536x1024', '1024x1536', 'auto'] as const;

const SIZE = z.union([z.literal('auto'), z.string().regex(/^\d{2,5}x\d{2,5}$/)]);

export const GenerationRequestSchema = z
  .object({
    prompt: z.string().min(1).max(32_000),
    model: z.string().min(1).optional(),
    n: z.number().int().min(1).max(10).optional(),
    size: SIZE.optional(),
    quality: z.enum(['auto', 'low', 'medium', 'high', 'hd', 'standard']).optional(),
    response_format: z.enum(['url', 'b64_json']).optional(),
    output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
    output_compression: z.number().int().min(0).max(100).optional(),
    background: z.enum(['transparent', 'opaque', 'auto']).optional(),
    moderation: z.enum(['low', 'auto']).optional(),
    style: z.enum(['vivid', 'natural']).optional(),
    stream: z.boolean().optional(),
    partial_images: z.number().int().min(0).max(3).optional(),
    user: z.string().optional(),
  })
  .strict();
export type GenerationRequest = z.infer<typeof GenerationRequestSchema>;

/** Multipart text fields of `/images/edits` (numbers arrive as strings on the wire). */
const formInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export const EditFieldsSchema = z
  .object({
    prompt: z.string().min(1).max(32_000),
    model: z.string().min(1).optional(),
    n: formInt(1, 10).optional(),
    size: z.enum(EDIT_SIZES).optional(),
    quality: z.enum(['standard', 'low', 'medium', 'high', 'auto']).optional(),
    response_format: z.enum(['url', 'b64_json']).optional(),
    output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
    output_compression: formInt(0, 100).optional(),
    background: z.enum(['transparent', 'opaque', 'auto']).optional(),
    input_fidelity: z.enum(['high', 'low']).optional(),
    stream: z.enum(['true', 'false']).optional(),
    partial_images: formInt(0, 3).optional(),
    user: z.string().optional(),
  })
  .strict();

export const UsageSchema = z
  .object({
    total_tokens: z.number().optional(),
    input_tokens: z.number().optional(),
    output_tokens: z.number().optional(),
    input_tokens_details: z.record(z.string(), z.number()).optional(),
    output_tokens_details: z.record(z.string(), z.number()).optional(),
  })
  .loose();

export const ImagesResponseSchema = z
  .object({
    created: z.number(),
    data: z.array(
      z
        .object({
          b64_json: z.string().optional(),
          url: z.string().optional(),
          revised_prompt: z.string().optional(),
        })
        .loose(),
    ),
    background: z.string().optional(),
    output_format: z.string().optional(),
    size: z.string().optional(),
    quality: z.string().optional(),
    usage: UsageSchema.optional(),
  })
  .loose();
export type ImagesResponse = z.infer<typeof ImagesResponseSchema>;

export const ErrorResponseSchema = z.object({
  error: z
    .object({
      message: z.string(),
      type: z.string().nullish(),
      param: z.string().nullish(),
      code: z.string().nullish(),
    })
    .loose(),
});
export type OpenAIErrorBody = z.infer<typeof ErrorResponseSchema>['error'];

/** Error codes OpenAI uses for safety-system refusals (GPT image models / DALL·E). */
export const MODERATION_CODES: ReadonlySet<string> = new Set([
  'moderation_blocked',
  'content_policy_violation',
]);

export function isGptImageModel(model: string | undefined): boolean {
  return model?.startsWith('gpt-image') === true;
}

/**
 * Server-Sent Events of a streamed generation or edit (`stream: true`, GPT image models): each event is an
 * `event:` line naming the type and one `data:` line of JSON; `partial_images` (0–3) partial pictures of
 * the image as it is made, then one `…completed` per image. `kind` is `image_generation` or `image_edit`.
 */
const StreamImageFields = {
  b64_json: z.string().min(1),
  created_at: z.number(),
  size: z.string(),
  quality: z.string(),
  background: z.string(),
  output_format: z.string(),
};
export const PartialImageEventSchema = z
  .object({
    type: z.enum(['image_generation.partial_image', 'image_edit.partial_image']),
    partial_image_index: z.number().int().min(0),
    ...StreamImageFields,
  })
  .loose();
export const CompletedEventSchema = z
  .object({
    type: z.enum(['image_generation.completed', 'image_edit.completed']),
    ...StreamImageFields,
    usage: UsageSchema.optional(),
  })
  .loose();
/**
 * A failure after the stream opened: an `error` event whose data carries the usual error object (the
 * openai SDKs raise `data.error`); the Responses API's flat `{ type: "error", code, message }` is read too.
 */
export const StreamErrorSchema = z.union([
  z.object({ error: ErrorResponseSchema.shape.error }).loose(),
  z
    .object({
      type: z.literal('error'),
      message: z.string(),
      code: z.string().nullish(),
      param: z.string().nullish(),
    })
    .loose(),
]);
