import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderSketch } from '../../sketch/render.ts';
import type { Question } from '../types.ts';
import { canInspect, createInspectJudge, INSPECT_ID } from './inspect.ts';

const q = (id: string, text: string, expected: 'yes' | 'no' = 'yes'): Question => ({
  id,
  text,
  expected,
  category: 'composition',
  critical: false,
  fixHint: 'x',
  source: 'rubric',
});

async function sketch(prompt: string, width = 512, height = 512) {
  const img = await renderSketch({ prompt, width, height, seed: 7, format: 'png', background: 'opaque' });
  return { bytes: img.bytes, mediaType: img.mediaType };
}

async function solid(colour: string, width = 200, height = 200) {
  const bytes = await sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();
  return { bytes: new Uint8Array(bytes), mediaType: 'image/png' };
}

const judge = createInspectJudge();

async function ask(image: { bytes: Uint8Array; mediaType: string }, ...texts: string[]) {
  const result = await judge.judge({ image, questions: texts.map((t, i) => q(`q${i}`, t)) });
  return result.answers;
}

describe('pixel/inspect', () => {
  it('reads background tone and uniformity from the border', async () => {
    const white = await sketch('three red apples on a white background');
    const [plainWhite, lightGrey, warm] = await ask(
      white,
      'Is the background plain white?',
      'Is the background a plain light grey?',
      'Is the background a warm neutral tone?',
    );
    expect(plainWhite).toMatchObject({ answer: 'yes', path: 'pixels', judge: INSPECT_ID });
    expect(plainWhite!.pYes).toBeGreaterThan(0.9);
    expect(lightGrey!.answer).toBe('no');
    expect(warm!.answer).toBe('no');

    const paper = await sketch('a ribeye steak on butcher paper');
    const [warmPaper, whitePaper] = await ask(
      paper,
      'Is the background a warm neutral tone?',
      'Is the background plain white?',
    );
    expect(warmPaper!.answer).toBe('yes');
    expect(whitePaper!.answer).toBe('no');

    const wood = await sketch('a roast chicken on a wooden table');
    const [plain] = await ask(wood, 'Is the background plain?');
    expect(plain!.answer).toBe('no');
    expect(plain!.note).toMatch(/spread/);
  });

  it('tells position and fill of the subject, and whether it stays inside the frame', async () => {
    const apples = await sketch('three red apples on a white background');
    const [centred, inside, fills] = await ask(
      apples,
      'Is the produce centred with space around it?',
      'Is the whole cut visible inside the frame?',
      'Is the dish centred and filling most of the frame?',
    );
    expect(centred!.answer).toBe('yes');
    expect(inside!.answer).toBe('yes');
    expect(fills!.answer).toBe('yes');

    // A red block touching the right edge, off-centre.
    const offside = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#ffffff' } })
      .composite([
        {
          input: await sharp({ create: { width: 60, height: 60, channels: 3, background: '#d62828' } })
            .png()
            .toBuffer(),
          left: 140,
          top: 70,
        },
      ])
      .png()
      .toBuffer();
    const [c2, in2, f2] = await ask(
      { bytes: new Uint8Array(offside), mediaType: 'image/png' },
      'Is the produce centred with space around it?',
      'Is the whole cut visible inside the frame?',
      'Does the dish fill most of the frame?',
    );
    expect(c2!.answer).toBe('no');
    expect(in2!.answer).toBe('no');
    expect(f2!.answer).toBe('no');
  });

  it('measures blur, brightness, emptiness, aspect and dominant colour', async () => {
    const apples = await sketch('three red apples on a white background', 600, 400);
    const blurred = {
      bytes: new Uint8Array(await sharp(apples.bytes).blur(4).png().toBuffer()),
      mediaType: 'image/png',
    };
    const [sharpBlurry] = await ask(apples, 'Is the image blurry?');
    const [blurryBlurry] = await ask(blurred, 'Is the image blurry?');
    expect(sharpBlurry!.answer).toBe('no');
    expect(blurryBlurry!.answer).toBe('yes');

    const [dark, empty, landscape, red] = await ask(
      apples,
      'Is the image too dark?',
      'Is the image empty?',
      'Is the image landscape?',
      'Is the fruit mostly red?',
    );
    expect(dark!.answer).toBe('no');
    expect(empty!.answer).toBe('no');
    expect(landscape!.answer).toBe('yes');
    expect(red!.answer).toBe('yes');

    const black = await solid('#050505');
    const [dark2, empty2] = await ask(black, 'Is the image too dark?', 'Is the image empty?');
    expect(dark2!.answer).toBe('yes');
    expect(empty2!.answer).toBe('yes');
  });

  it('says unsure to anything pixels cannot tell, and to unknown tones', async () => {
    const apples = await sketch('three red apples on a white background');
    const answers = await ask(
      apples,
      'Does the image show 3 red apples?',
      'Is there any text, watermark or logo in the image?',
      'Is the background a marbled teal with gold flecks?',
      'Is the package upright and facing the camera?',
    );
    for (const a of answers) {
      expect(a).toMatchObject({ answer: 'unsure', pYes: null, path: 'none' });
    }
    expect(canInspect({ text: 'Does the image show a raw ribeye steak?' })).toBe(false);
    expect(canInspect({ text: 'Is the background plain white?' })).toBe(true);
  });

  it('does not read a tone off a transparent border', async () => {
    const img = await renderSketch({
      prompt: 'an apple',
      width: 256,
      height: 256,
      seed: 1,
      format: 'png',
      background: 'transparent',
    });
    const [bg] = await ask({ bytes: img.bytes, mediaType: img.mediaType }, 'Is the background plain white?');
    expect(bg!.answer).toBe('unsure');
    expect(bg!.note).toMatch(/transparent/);
  });

  it('refuses undecodable bytes naming the field', async () => {
    await expect(
      judge.judge({ image: { bytes: new Uint8Array([1, 2, 3]), mediaType: 'image/png' }, questions: [] }),
    ).rejects.toThrow(/image: cannot be decoded/);
  });
});
