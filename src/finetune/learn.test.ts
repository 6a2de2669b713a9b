import { describe, expect, it } from 'vitest';
import { createInspectJudge } from '../quality/inspect/inspect.ts';
import { renderSketch } from '../sketch/render.ts';
import { evaluationQuestions } from './evaluate.ts';
import { learnTune, measureLook } from './learn.ts';
import { productPhoto } from './testing.ts';

describe('pixel/sketch-tune learning', () => {
  it("learns the dataset's subject colour, backdrop and proportions, deterministically", async () => {
    const looks = await Promise.all(
      [0, 1, 2].map(async (v) => measureLook(await productPhoto({ variant: v }))),
    );
    expect(looks[0]!.colours[0]!.name).toBe('purple');
    const learned = learnTune(looks, 1000);
    expect(learned.subjectColour).toBe('purple');
    expect(learned.backgroundColour).toBe('light grey');
    expect(learned.tune.strength).toBe(1);
    // The drawn #7b3fa0, a little lighter from the antialiased edges.
    const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(learned.tune.palette[0]!.slice(i, i + 2), 16));
    expect(Math.abs(r! - 0x7b) + Math.abs(g! - 0x3f) + Math.abs(b! - 0xa0)).toBeLessThan(24);
    expect(learned.tune.background).toBe('#dcdcdc');
    expect(learnTune(looks, 1000)).toEqual(learned);
    expect(learnTune(looks, 250).tune.strength).toBe(0.25);
  });

  it('makes pixel/sketch draw in the learned look, as pixel/inspect measures it', async () => {
    const looks = await Promise.all(
      [0, 1, 2].map(async (v) => measureLook(await productPhoto({ variant: v }))),
    );
    const learned = learnTune(looks, 1000);
    const weights = {
      kind: 'sketch-tune' as const,
      tune: learned.tune,
      subjectColour: 'purple',
      backgroundColour: 'light grey',
    };
    const questions = evaluationQuestions(weights);
    const judge = createInspectJudge();
    const draw = async (tune?: typeof learned.tune) =>
      (
        await renderSketch({
          prompt: 'a photo of a ribeye steak',
          width: 256,
          height: 256,
          seed: 7,
          format: 'png',
          background: 'opaque',
          ...(tune && { tune }),
        })
      ).bytes;
    const base = await judge.judge({ image: { bytes: await draw(), mediaType: 'image/png' }, questions });
    const tuned = await judge.judge({
      image: { bytes: await draw(learned.tune), mediaType: 'image/png' },
      questions,
    });
    expect(tuned.answers.map((a) => a.answer)).toEqual(['yes', 'yes']);
    expect(base.answers[0]!.answer).not.toBe('yes');
  });
});
