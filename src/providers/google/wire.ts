import { z } from 'zod';

/**
 * Gemini API `models/{model}:generateContent` wire shapes for image output.
 * Requests are strict: the real API answers an unknown field with 400 INVALID_ARGUMENT
 * ("Invalid JSON payload received. Unknown name …").
 */

export const GEMINI_ASPECT_RATIOS = [
  '1:1',
  '2:3',
  '3:2',
  '3:4',
  '4:3',
  '4:5',
  '5:4',
  '9:16',
  '16:9',
  '21:9',
] as const;
export const GEMINI_IMAGE_SIZES = ['1K', '2K', '4K'] as const;

/** Pixels per aspect ratio at 1K (Gemini image-generation docs); 2K and 4K double and quadruple them. */
export const GEMINI_RATIO_PIXELS: Record<(typeof GEMINI_ASPECT_RATIOS)[number], [number, number]> = {
  '1:1': [1024, 1024],
  '2:3': [832, 1248],
  '3:2': [1248, 832],
  '3:4': [864, 1184],
  '4:3': [1184, 864],
  '4:5': [896, 1152],
  '5:4': [1152, 896],
  '9:16': [768, 1344],
  '16:9': [1344, 768],
  '21:9': [1536, 672],
};

const InlineDataSchema = z.object({ mimeType: z.string(), data: z.string() }).strict();

const PartSchema = z.union([
  z.object({ text: z.string(), thought: z.boolean().optional() }).strict(),
  z.object({ inlineData: InlineDataSchema }).strict(),
]);

const ContentSchema = z
  .object({ role: z.enum(['user', 'model']).optional(), parts: z.array(PartSchema).min(1) })
  .strict();

export const GenerateContentRequestSchema = z
  .object({
    contents: z.array(ContentSchema).min(1),
    systemInstruction: ContentSchema.optional(),
    safetySettings: z.array(z.object({ category: z.string(), threshold: z.string() }).strict()).optional(),
    generationConfig: z
      .object({
        responseModalities: z.array(z.enum(['TEXT', 'IMAGE'])).optional(),
        imageConfig: z
          .object({
            aspectRatio: z.enum(GEMINI_ASPECT_RATIOS).optional(),
            imageSize: z.enum(GEMINI_IMAGE_SIZES).optional(),
          })
          .strict()
          .optional(),
        candidateCount: z.number().int().min(1).max(8).optional(),
        temperature: z.number().min(0).max(2).optional(),
        topP: z.number().min(0).max(1).optional(),
        topK: z.number().int().min(1).optional(),
        maxOutputTokens: z.number().int().min(1).optional(),
        seed: z.number().int().optional(),
        stopSequences: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type GenerateContentRequest = z.infer<typeof GenerateContentRequestSchema>;

const ResponsePartSchema = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  inlineData: z.object({ mimeType: z.string(), data: z.string() }).optional(),
});

export const GenerateContentResponseSchema = z.looseObject({
  candidates: z
    .array(
      z.looseObject({
        content: z
          .looseObject({ role: z.string().optional(), parts: z.array(ResponsePartSchema).optional() })
          .optional(),
        finishReason: z.string().optional(),
        finishMessage: z.string().optional(),
        index: z.number().optional(),
      }),
    )
    .optional(),
  promptFeedback: z
    .looseObject({ blockReason: z.string().optional(), blockReasonMessage: z.string().optional() })
    .optional(),
  usageMetadata: z.record(z.string(), z.unknown()).optional(),
  modelVersion: z.string().optional(),
  responseId: z.string().optional(),
});
export type GenerateContentResponse = z.infer<typeof GenerateContentResponseSchema>;

/** Finish reasons that mean the image was refused on content grounds. */
export const MODERATION_FINISH_REASONS: ReadonlySet<string> = new Set([
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'SAFETY',
  'PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
  'RECITATION',
  'BLOCKLIST',
  'SPII',
]);
