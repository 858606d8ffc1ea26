/**
 * The COPY line made from a row's urlencoded values at once equals the one made value by
 * value (decode, then escape): for any text, and for the encodings only the lenient decoder
 * takes (stray `%`, bytes that are not UTF-8), which go value by value. A NUL is refused.
 */
import { describe, expect, it } from 'vitest';
import { encodedCopyLine, lineSafe } from '../../src/londiste/apply/encoded-line.js';
import { parseRowChange, ShapeCache } from '../../src/londiste/apply/row-change.js';
import { copyField } from '../../src/pgq/copy-text.js';
import { Event } from '../../src/pgq/event.js';
import { decodeComponent, encodeComponent } from '../../src/pgq/urlencode.js';

function valueByValue(encoded: readonly (string | null)[]): string {
  return `${encoded.map((v) => copyField(v === null ? null : decodeComponent(v))).join('\t')}\n`;
}

// Characters COPY escapes, urlencoding's own, a NULL look-alike, unicode of 2, 3 and 4 bytes.
const alphabet = [
  'a',
  'Z',
  '0',
  ' ',
  '+',
  '%',
  '&',
  '=',
  '\\',
  '\t',
  '\n',
  '\r',
  'N',
  '.',
  'é',
  '€',
  '😀',
  '"',
  "'",
  ',',
];

function randomText(random: () => number): string {
  let text = '';
  const length = Math.floor(random() * 12);
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

// A small fixed-seed generator: the same cases on every run.
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('encodedCopyLine', () => {
  it('equals decoding and escaping value by value, for any text', () => {
    const random = seeded(7);
    for (let n = 0; n < 3000; n++) {
      const row: (string | null)[] = [];
      const width = 1 + Math.floor(random() * 5);
      for (let c = 0; c < width; c++) {
        row.push(random() < 0.15 ? null : encodeComponent(randomText(random)));
      }
      expect(encodedCopyLine(row)).toBe(valueByValue(row));
    }
  });

  it('escapes what COPY must, in either case of the hex digits', () => {
    expect(encodedCopyLine(['a%5cb%5Cc', '%09%0a%0A%0d%0D', null, '\\N', '%5CN'])).toBe(
      'a\\\\b\\\\c\t\\t\\n\\n\\r\\r\t\\N\t\\N\t\\\\N\n',
    );
  });

  it('takes the lenient encodings value by value, as before', () => {
    for (const row of [
      ['100%', '%zz', 'a+b'],
      ['%e9t%e9', 'ok'],
      ['%%0A', '%5'],
      ['x', null, '%ff%fe%5C'],
    ]) {
      expect(encodedCopyLine(row)).toBe(valueByValue(row));
    }
  });

  it('refuses a NUL as the value-by-value path does', () => {
    expect(() => encodedCopyLine(['a%00b'])).toThrow(/NUL character/);
  });

  it('is used only for data without raw COPY specials', () => {
    expect(lineSafe('id=1&name=a+b%09c')).toBe(true);
    for (const raw of ['a=x\ty', 'a=x\ny', 'a=x\ry', 'a=x\\y']) expect(lineSafe(raw)).toBe(false);
  });
});

describe("inserts read in one pass when the row has the last row's names", () => {
  // No batch: these events are only parsed.
  const noBatch = undefined as never;
  const insert = (data: string) =>
    new Event(['1', null, '1', null, 'I:id', data, 'public.t', null, null, null], noBatch);
  const parsed = (cache: ShapeCache, data: string) => {
    const change = parseRowChange(insert(data), cache, { encodedInserts: true });
    if (change.kind !== 'row') throw new Error(`not a row: ${change.kind}`);
    return { columns: change.shape.columns, key: change.shape.keyIndexes, line: change.encoded };
  };

  it('gives what reading the row on its own gives, whatever the row before', () => {
    const rows = [
      'id=1&name=a&note',
      'id=2&name=&note=x',
      'id=3&name=b',
      'id=4&name=b&note=c&extra=1',
      'id=5&namex=b&note=c',
      'id=6&note=c&name=b',
      'id=7&name=a%26b&note=%3D',
      'id=8&name=a%26b&note=%3D',
      'id=9&name=a&note=b&',
      'id=10&name=a=b&note',
    ];
    const random = seeded(11);
    const names = ['id', 'name', 'nam', 'note', 'n%C3%A9'];
    for (let n = 0; n < 500; n++) {
      const width = 1 + Math.floor(random() * 4);
      const parts: string[] = [];
      for (let c = 0; c < width; c++) {
        const name = c === 0 ? 'id' : (names[Math.floor(random() * names.length)] as string);
        const value = random() < 0.15 ? null : encodeComponent(randomText(random));
        parts.push(value === null ? name : `${name}=${value}`);
      }
      if (new Set(parts.map((p) => p.split('=')[0])).size === parts.length)
        rows.push(parts.join('&'));
    }
    const shared = new ShapeCache();
    for (const data of rows) {
      if (!lineSafe(data)) continue;
      expect(parsed(shared, data), data).toEqual(parsed(new ShapeCache(), data));
    }
  });

  it('makes the COPY line of the values as they were', () => {
    const cache = new ShapeCache();
    parsed(cache, 'id=1&name=a&note');
    expect(parsed(cache, 'id=2&name=&note=x%09y').line).toBe('2\t\tx%09y');
    expect(parsed(cache, 'id=3&name&note').line).toBe('3\t\\N\t\\N');
  });
});
