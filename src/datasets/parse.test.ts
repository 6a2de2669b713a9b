import { describe, expect, it } from 'vitest';
import { csvRecords, formatOf, parseDataset } from './parse.ts';

describe('parseDataset (CSV)', () => {
  it('keeps the good rows and reports every bad one with its line and reason', () => {
    const csv = [
      'external_id,category,item,count',
      'sku-1,fruit,Hass avocado,two',
      '"sku-2",fruit,"lemon, halved",three',
      'sku-1,fruit,duplicate,one',
      'sku-4,fruit',
      '',
      'sku-5,vegetable,"red ""heirloom"" tomato",one',
      'sku-6,fruit,,',
      'sku-7,fruit,"multi',
      'line",one',
      'sku-8,fruit,"never closed,one',
    ].join('\n');
    const parsed = parseDataset(csv, 'csv');
    expect(parsed.items.map((i) => [i.line, i.externalId, i.category, i.vars])).toEqual([
      [2, 'sku-1', 'fruit', { item: 'Hass avocado', count: 'two' }],
      [3, 'sku-2', 'fruit', { item: 'lemon, halved', count: 'three' }],
      [7, 'sku-5', 'vegetable', { item: 'red "heirloom" tomato', count: 'one' }],
      [9, 'sku-7', 'fruit', { item: 'multi\nline', count: 'one' }],
    ]);
    expect(parsed.rejected).toEqual([
      { line: 4, reason: 'external_id "sku-1" repeats line 2' },
      { line: 5, reason: "expected 4 fields (the header's), got 2" },
      { line: 8, reason: 'the row has no variables' },
      { line: 11, reason: 'a quoted field is never closed' },
    ]);
  });

  it('refuses a header with a repeated column, and text with NUL', () => {
    expect(parseDataset('a,a\n1,2\n', 'csv').rejected).toEqual([
      { line: 1, reason: 'the header has an empty or repeated column "a"' },
    ]);
    const bad = parseDataset('item\nok\nbad\u0000x\n', 'csv');
    expect(bad.items).toHaveLength(1);
    expect(bad.rejected[0]).toMatchObject({ line: 3 });
    expect(bad.rejected[0]!.reason).toMatch(/item must not contain a NUL/);
  });

  it('parses CRLF records and quoted commas', () => {
    expect(csvRecords('a,b\r\n"x,y",z\r\n').map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['x,y', 'z'],
    ]);
  });
});

describe('parseDataset (JSONL)', () => {
  it('takes vars objects or flat keys, and reports bad JSON, non-objects and bad values', () => {
    const jsonl = [
      '{"external_id":"a","category":"beef","vars":{"cut":"ribeye"}}',
      '{"id":7,"cut":"brisket","weight":2.5}',
      '{not json',
      '[1,2]',
      '{"vars":{"cut":{"nested":true}}}',
      '{"vars":{"bad name":"x"}}',
      '',
      '{"external_id":"a","vars":{"cut":"again"}}',
      '{"vars":"x"}',
    ].join('\n');
    const parsed = parseDataset(jsonl, 'jsonl');
    expect(parsed.items).toEqual([
      { line: 1, externalId: 'a', category: 'beef', vars: { cut: 'ribeye' } },
      { line: 2, externalId: '7', category: null, vars: { cut: 'brisket', weight: '2.5' } },
    ]);
    expect(parsed.rejected.map((r) => r.line)).toEqual([3, 4, 5, 6, 8, 9]);
    expect(parsed.rejected[0]!.reason).toMatch(/^not valid JSON/);
    expect(parsed.rejected[1]!.reason).toBe('a row must be an object');
    expect(parsed.rejected[2]!.reason).toBe('variable cut must be text, a number or a boolean');
    expect(parsed.rejected[3]!.reason).toMatch(/variable name "bad name" must match/);
    expect(parsed.rejected[4]!.reason).toBe('external_id "a" repeats line 1');
    expect(parsed.rejected[5]!.reason).toBe('vars must be an object');
  });

  it('knows formats by file name', () => {
    expect(formatOf('items.CSV')).toBe('csv');
    expect(formatOf('items.jsonl')).toBe('jsonl');
    expect(formatOf('items.ndjson')).toBe('jsonl');
    expect(formatOf('items.txt')).toBeUndefined();
  });
});
