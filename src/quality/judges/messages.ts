import type { ModelMessage } from 'ai';
import type { JudgeImage, Question } from '../types.ts';

export const JUDGE_SYSTEM = [
  'You inspect generated product images for a grocery catalogue.',
  'Answer every question from what is visible in the image only; do not guess from the question wording.',
  'A question may describe something that should NOT be there: answer literally (yes if it is there).',
  'Answer each question id exactly once.',
].join(' ');

export const QUESTIONS_MARKER = 'Questions (JSON):';

export function judgeMessages(image: JudgeImage, questions: readonly Question[], extra = ''): ModelMessage[] {
  const list = questions.map((q) => ({ id: q.id, question: q.text }));
  return [
    {
      role: 'user',
      content: [
        {
          type: 'text',
          text: `Answer these yes/no questions about the image.${extra ? ` ${extra}` : ''}\n${QUESTIONS_MARKER} ${JSON.stringify(list)}`,
        },
        // Base64 text: every provider package accepts it (one of them mishandles raw bytes).
        { type: 'file', mediaType: image.mediaType, data: Buffer.from(image.bytes).toString('base64') },
      ],
    },
  ];
}

export const PAIR_MARKER = 'Criteria (JSON):';

export function pairMessages(
  first: JudgeImage,
  second: JudgeImage,
  criteria: readonly string[],
): ModelMessage[] {
  return [
    {
      role: 'user',
      content: [
        {
          type: 'text',
          text: `Two images of the same item follow, the first then the second. Which one better meets all the criteria? ${PAIR_MARKER} ${JSON.stringify(criteria)}`,
        },
        { type: 'file', mediaType: first.mediaType, data: Buffer.from(first.bytes).toString('base64') },
        { type: 'file', mediaType: second.mediaType, data: Buffer.from(second.bytes).toString('base64') },
      ],
    },
  ];
}

export const CAPTION_MARKER = 'Caption for training (JSON field "caption"):';

/** Asks for a training caption of one product image: what is plainly visible, one sentence. */
export function captionMessages(image: JudgeImage, category: string): ModelMessage[] {
  return [
    {
      role: 'user',
      content: [
        {
          type: 'text',
          text: `Write one plain sentence describing this ${category} product photo for a fine-tuning dataset: the product, its colours, the backdrop and the framing, only what is visible. ${CAPTION_MARKER}`,
        },
        { type: 'file', mediaType: image.mediaType, data: Buffer.from(image.bytes).toString('base64') },
      ],
    },
  ];
}
