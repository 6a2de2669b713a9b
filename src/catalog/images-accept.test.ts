import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from './db.ts';
import { acceptedAt, ImageRepo } from './images.ts';

const base = {
  model: 'pixel/sketch',
  route: 'pixel/sketch',
  provider: 'pixel',
  blobKey: 'images/ab/cd/x.png',
  sha256: 'b'.repeat(64),
  byteSize: 10,
  mediaType: 'image/png',
  width: 64,
  height: 64,
};

describe('ImageRepo: accept and the prompt / accepted filters', () => {
  let db: Db;
  let repo: ImageRepo;
  beforeAll(async () => {
    db = await openDatabase({ memory: true });
    repo = new ImageRepo(db);
  });
  afterAll(async () => {
    await db.close();
  });

  it('records the first acceptance, keeps other review data, and is team-scoped', async () => {
    const image = await repo.insert({
      ...base,
      team: 'grocery',
      prompt: 'A Ribeye steak',
      review: { note: 'x' },
    });
    expect(acceptedAt(image)).toBeNull();
    expect(await repo.accept(image.id, { team: 'other', by: 'k1' })).toBeUndefined();
    const accepted = await repo.accept(image.id, { team: 'grocery', by: 'k1' });
    const at = acceptedAt(accepted!);
    expect(at).toBeInstanceOf(Date);
    expect(accepted!.review).toMatchObject({ note: 'x', accepted: { by: 'k1' } });
    const again = await repo.accept(image.id, { by: 'k2' });
    expect(again!.review).toMatchObject({ accepted: { by: 'k1' } });
    expect(acceptedAt(again!)?.getTime()).toBe(at!.getTime());
    await repo.delete(image.id, {});
    expect(await repo.accept(image.id, { by: 'k3' })).toBeUndefined();
  });

  it('filters by prompt text (case-insensitive, literal) and by acceptance', async () => {
    const a = await repo.insert({ ...base, team: 'produce', prompt: 'Two green APPLES on oak' });
    const b = await repo.insert({ ...base, team: 'produce', prompt: 'a 100% pear_shaped gourd' });
    await repo.accept(b.id, { by: 'k' });
    const ids = async (o: object) =>
      (await repo.list({ team: 'produce', limit: 10, ...o })).images.map((i) => i.id);
    expect(await ids({ promptContains: 'apples' })).toEqual([a.id]);
    expect(await ids({ promptContains: '100%' })).toEqual([b.id]);
    expect(await ids({ promptContains: 'r_s' })).toEqual([b.id]);
    expect(await ids({ promptContains: 'banana' })).toEqual([]);
    expect(await ids({ accepted: true })).toEqual([b.id]);
    expect(await ids({ accepted: false })).toEqual([a.id]);
    expect(await ids({ accepted: true, promptContains: 'apple' })).toEqual([]);
    const child = await repo.insert({ ...base, team: 'produce', prompt: 'child', parentId: a.id });
    expect(await ids({ parentId: a.id })).toEqual([child.id]);
    expect(await ids({ parentId: b.id })).toEqual([]);
  });
});
