/**
 * The bulk handler's collapse per key (src/londiste/apply/collapse.ts): whatever happened to
 * a key within the buffer, the destination gets one change that leaves the row as the events
 * one by one would have: the last state, inserted, updated or deleted by what the first event
 * says of the row before.
 */
import { describe, expect, it } from 'vitest';
import { CollapsedRows } from '../../src/londiste/apply/collapse.js';
import type { RowShape } from '../../src/londiste/apply/row-change.js';

const shape: RowShape = { signature: 's', columns: ['id', 'v'], keyIndexes: [0], json: false };
const twoKeys: RowShape = {
  signature: 't',
  columns: ['a', 'b', 'v'],
  keyIndexes: [0, 1],
  json: false,
};

function collapse(ops: [string, string, string | null][]) {
  const rows = new CollapsedRows();
  for (const [op, id, v] of ops) rows.add(op as 'I' | 'U' | 'D', shape, [id, v]);
  return rows.rows().map((r) => [r.op, ...r.values]);
}

describe('collapse per key', () => {
  it.each([
    ['insert', [['I', '1', 'a']], [['I', '1', 'a']]],
    [
      'insert, updates',
      [
        ['I', '1', 'a'],
        ['U', '1', 'b'],
        ['U', '1', 'c'],
      ],
      [['I', '1', 'c']],
    ],
    [
      'insert, delete',
      [
        ['I', '1', 'a'],
        ['D', '1', 'a'],
      ],
      [],
    ],
    [
      'insert, delete, insert',
      [
        ['I', '1', 'a'],
        ['D', '1', 'a'],
        ['I', '1', 'z'],
      ],
      [['I', '1', 'z']],
    ],
    [
      'updates',
      [
        ['U', '1', 'a'],
        ['U', '1', 'b'],
      ],
      [['U', '1', 'b']],
    ],
    [
      'update, delete',
      [
        ['U', '1', 'a'],
        ['D', '1', 'a'],
      ],
      [['D', '1', 'a']],
    ],
    ['delete', [['D', '1', 'a']], [['D', '1', 'a']]],
    [
      'delete, insert',
      [
        ['D', '1', 'a'],
        ['I', '1', 'b'],
      ],
      [['U', '1', 'b']],
    ],
    [
      'delete, insert, delete',
      [
        ['D', '1', 'a'],
        ['I', '1', 'b'],
        ['D', '1', 'b'],
      ],
      [['D', '1', 'b']],
    ],
  ] as [string, [string, string, string | null][], unknown[]][])('%s', (_name, ops, expected) => {
    expect(collapse(ops)).toEqual(expected);
  });

  it('keeps keys apart, in the order they first came, NULL values and all', () => {
    expect(
      collapse([
        ['I', '2', null],
        ['U', '1', 'x'],
        ['U', '2', 'y'],
        ['D', '3', 'z'],
      ]),
    ).toEqual([
      ['I', '2', 'y'],
      ['U', '1', 'x'],
      ['D', '3', 'z'],
    ]);
  });

  it('keys of several columns', () => {
    const rows = new CollapsedRows();
    rows.add('I', twoKeys, ['1', '2', 'a']);
    rows.add('I', twoKeys, ['12', '', 'b']);
    rows.add('U', twoKeys, ['1', '2', 'c']);
    expect(rows.size).toBe(2);
    expect(rows.rows().map((r) => [r.op, ...r.values])).toEqual([
      ['I', '1', '2', 'c'],
      ['I', '12', '', 'b'],
    ]);
  });
});
