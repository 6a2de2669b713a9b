import { describe, expect, it } from 'vitest';
import { calibrateFile, parseCsv, parseRatings } from './ratings-file.ts';

describe('published rating sets', () => {
  it('parses CSV with quotes and CRLF, and JSONL', () => {
    expect(parseCsv('a,b\r\n1,"x, ""y"""\r\n2,z\n')).toEqual([
      { a: '1', b: 'x, "y"' },
      { a: '2', b: 'z' },
    ]);
    expect(parseRatings('{"a":1}\n\n{"a":2}\n')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(() => parseRatings('{"a":1}\nnope')).toThrow(/line 2 is not a JSON object/);
  });

  it('scores each column against Likert ratings (hand-computed)', () => {
    const rows = parseRatings(
      [
        '{"likert":1,"tifa":1,"clip":3}',
        '{"likert":2,"tifa":2,"clip":1}',
        '{"likert":2,"tifa":3,"clip":2}',
        '{"likert":3,"tifa":4,"clip":4}',
      ].join('\n'),
    );
    const out = calibrateFile(rows, 'likert', ['tifa', 'clip']);
    expect(out.humanKind).toBe('rating');
    const tifa = out.columns[0]!;
    // likert ranks [1, 2.5, 2.5, 4] vs tifa ranks [1,2,3,4]: Spearman 3/sqrt(10)... by symmetry with the metrics test
    expect(tifa.n).toBe(4);
    expect(tifa.spearman).toBeCloseTo(3 / Math.sqrt(10), 12);
    expect(tifa.kendallTauB).toBeCloseTo(5 / Math.sqrt(30), 12);
    expect(out.columns[1]!.n).toBe(4);
    expect(tifa.verdict).toBeUndefined();
  });

  it('with a yes/no human column also fits a threshold and reports accuracy, precision, recall and kappa', () => {
    const csv = 'human,score\nyes,0.9\nyes,0.8\nno,0.3\nno,0.6\nyes,0.55\nno,\n';
    const out = calibrateFile(parseCsv(csv), 'human', ['score']);
    expect(out.humanKind).toBe('verdict');
    const c = out.columns[0]!;
    expect(c.n).toBe(5);
    // t = 0.8: pred [T,T,F,F,F] vs [T,T,F,F,T]: tp2 fp0 tn2 fn1, po .8, pe (2·3+3·2)/25 = .48 → kappa .32/.52
    // t = 0.55: pred [T,T,F,T,T]: tp3 fp1 tn1 fn0, po .8, pe (4·3+1·2)/25 = .56 → kappa .24/.44 (lower)
    expect(c.verdict!.threshold).toBe(0.8);
    expect(c.verdict!.kappa).toBeCloseTo(0.32 / 0.52, 12);
    expect(c.verdict!.precision).toBe(1);
    expect(c.verdict!.recall).toBeCloseTo(2 / 3, 12);
  });

  it('names a missing column', () => {
    expect(() => calibrateFile([{ a: 1 }], 'human', ['a'])).toThrow(
      /column "human" is not in the file \(columns: a\)/,
    );
  });
});
