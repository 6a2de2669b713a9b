import type { ModelEntry } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import type { Translation } from '../translate/types.ts';

/** An image the caller sends in (an edit's source or reference image, or its mask). */
export interface InputImage {
  bytes: Uint8Array;
  mediaType: string;
}

/** What an edit sends along with the prompt: one or more images, and optionally a mask on the first. */
export interface InputImages {
  images: InputImage[];
  mask?: InputImage;
  /** Native fields only an edit takes (OpenAI's `input_fidelity`), added to the body beside the images. */
  fields?: Record<string, unknown>;
}

/** Why `model` cannot take these inputs, or undefined when it can (catalogue field `inputImages`). */
function refusal(model: ModelEntry, inputs: InputImages): string | undefined {
  const takes = model.inputImages;
  if (!takes)
    return `${model.id} takes no input image; use a model that edits (e.g. openai/gpt-image-1.5 or pixel/sketch)`;
  if (inputs.images.length > takes.max) {
    return `${model.id} takes at most ${takes.max} input image${takes.max === 1 ? '' : 's'}, got ${inputs.images.length}`;
  }
  if (inputs.mask && !takes.mask) return `${model.id} takes no mask`;
  return undefined;
}

/**
 * The routes that can take the edit's inputs: the first route must (else invalid_argument naming the
 * model), a fallback route that cannot is left out. Each kept plan's report says what was sent.
 */
export function plansTakingInputs(plans: Translation[], inputs: InputImages | undefined): Translation[] {
  if (!inputs) return plans;
  if (inputs.images.length === 0) {
    throw new PixelError({
      code: 'invalid_argument',
      field: 'image',
      message: 'an edit needs at least one image',
    });
  }
  const primary = plans[0]!;
  const why = refusal(primary.model, inputs);
  if (why) {
    throw new PixelError({
      code: 'invalid_argument',
      field: inputs.mask && primary.model.inputImages && !primary.model.inputImages.mask ? 'mask' : 'image',
      reason: 'unsupported_parameter',
      message: why,
    });
  }
  const sent = `${inputs.images.length} image${inputs.images.length === 1 ? '' : 's'}${inputs.mask ? ' and a mask' : ''}`;
  return plans
    .filter((plan) => refusal(plan.model, inputs) === undefined)
    .map((plan) => ({
      ...plan,
      report: [
        ...plan.report,
        {
          param: 'image',
          status: 'native',
          sent,
          note: `sent to ${plan.model.id} as input${inputs.mask ? ', the mask on the first image' : ''}`,
        },
      ],
    }));
}

/** The native body of one call with the inputs added (`image`: bytes in order, `mask`): what adapters read. */
export function bodyWithInputs(
  body: Record<string, unknown>,
  inputs: InputImages | undefined,
): Record<string, unknown> {
  if (!inputs) return body;
  return {
    ...body,
    ...inputs.fields,
    image: inputs.images.map((i) => i.bytes),
    ...(inputs.mask && { mask: inputs.mask.bytes }),
  };
}
