import { afterEach, describe, expect, it } from 'vitest';
import { tempPlatform } from '../jobs/testing.ts';
import { LOCAL_TEAM } from '../server/auth.ts';

const caller = { team: LOCAL_TEAM, role: 'member' as const };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('training datasets from the catalogue', () => {
  it("takes the team's accepted images whose prompt matches, captioned with their prompts", async () => {
    const env = await tempPlatform();
    cleanups.push(() => env.close());
    const { images, finetunes } = env.platform;
    const prompts = ['two red apples', 'a green apple on a board', 'a sliced apple, top view', 'a banana'];
    const ids: string[] = [];
    for (const [i, prompt] of prompts.entries()) {
      const made = await images.generateAndStore({ prompt, seed: 10 + i, width: 320, height: 320 }, caller);
      ids.push(made.images[0]!.id);
    }
    // Only people-approved images count: accept three of the four (one not about apples).
    for (const id of [ids[0]!, ids[1]!, ids[3]!]) await images.accept(id, caller);

    await expect(
      finetunes.datasets.createFromCatalog({
        team: LOCAL_TEAM,
        name: 'apples',
        category: 'produce',
        query: 'apple',
      }),
    ).rejects.toMatchObject({
      code: 'failed_precondition',
      field: 'query',
      message: `the catalogue has 2 accepted image(s) of team ${LOCAL_TEAM} whose prompt contains "apple"; a dataset needs at least 3`,
    });

    await images.accept(ids[2]!, caller);
    const dataset = await finetunes.datasets.createFromCatalog({
      team: LOCAL_TEAM,
      name: 'apples',
      category: 'produce',
      query: 'apple',
    });
    expect(dataset.source).toBe('catalog:apple');
    expect(dataset.images.map((i) => i.imageId).sort()).toEqual([ids[0]!, ids[1]!, ids[2]!].sort());
    expect(dataset.images.map((i) => i.caption).sort()).toEqual(prompts.slice(0, 3).sort());
    expect((await finetunes.datasets.get(LOCAL_TEAM, 'apples')).id).toBe(dataset.id);
    await expect(
      finetunes.datasets.createFromCatalog({
        team: LOCAL_TEAM,
        name: 'apples',
        category: 'produce',
        query: 'apple',
      }),
    ).rejects.toMatchObject({ code: 'already_exists', field: 'name' });
  }, 120_000);
});
