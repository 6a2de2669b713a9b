import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedStatements } from './pglite-prepared.ts';

let pg: PGlite;
beforeAll(async () => {
  pg = await PGlite.create();
  await pg.exec(`CREATE TABLE t (
    id text PRIMARY KEY, n int, big bigint, price numeric(10,6), doc jsonb, at timestamptz, ok boolean, raw bytea, note text
  )`);
});
afterAll(() => pg.close());

const SELECT = 'SELECT id, n, big, price, doc, at, ok, raw, note FROM t WHERE id = $1';
const INSERT = 'INSERT INTO t VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9) RETURNING id, price';

describe('PreparedStatements', () => {
  it('binds and returns exactly what PGlite query() does, for every column type the catalogue uses', async () => {
    const prepared = new PreparedStatements(pg);
    const at = new Date('2026-11-25T07:30:02.888Z');
    const values = [
      'a',
      7,
      2 ** 40,
      0.04,
      JSON.stringify({ k: [1, 'two'] }),
      at,
      true,
      new Uint8Array([0, 255]),
      null,
    ];
    const viaPrepared = await pg.transaction(() => prepared.query(INSERT, values));
    const viaQuery = (await pg.query<Record<string, unknown>>(INSERT, ['b', ...values.slice(1)])).rows;
    expect(viaPrepared).toEqual([{ ...viaQuery[0], id: 'a' }]);
    const read = await pg.transaction(() => prepared.query(SELECT, ['a']));
    const expected = (await pg.query(SELECT, ['a'])).rows;
    expect(read).toEqual(expected);
    expect(read[0]).toMatchObject({ n: 7, big: 2 ** 40, doc: { k: [1, 'two'] }, at, ok: true, note: null });
  });

  it('prepares a statement once and reuses it', async () => {
    const prepared = new PreparedStatements(pg);
    for (let i = 0; i < 5; i++) await pg.transaction(() => prepared.query(SELECT, ['a']));
    expect(prepared.size).toBe(1);
    await pg.transaction(() => prepared.query('SELECT count(*)::int AS n FROM t'));
    expect(prepared.size).toBe(2);
  });

  it("hands back the database's error, and the statement stays usable", async () => {
    const prepared = new PreparedStatements(pg);
    const duplicate = pg.transaction(() =>
      prepared.query(INSERT, ['a', 1, 1, 1, '{}', new Date(), false, null, null]),
    );
    await expect(duplicate).rejects.toMatchObject({ code: '23505', constraint: 't_pkey' });
    const fine = await pg.transaction(() =>
      prepared.query(INSERT, ['c', 1, 1, 1, '{}', new Date(), false, null, null]),
    );
    // numeric comes back as text, as from query() (the catalogue normalises it)
    expect(fine).toEqual([{ id: 'c', price: '1.000000' }]);
  });

  it('keeps at most its limit of statements, closing the oldest', async () => {
    const count = async () =>
      (
        await pg.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'pixel_%'`,
        )
      ).rows[0]!.n;
    const before = await count();
    const prepared = new PreparedStatements(pg, { maxPrepared: 3 });
    for (let i = 0; i < 6; i++) {
      expect(await pg.transaction(() => prepared.query(`SELECT ${i}::int AS v`))).toEqual([{ v: i }]);
    }
    expect(prepared.size).toBe(3);
    expect((await count()) - before).toBe(3); // the oldest three were closed in the database too
  });
});
