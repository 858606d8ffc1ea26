/**
 * The row counts of a COPY stream seen as bytes, whatever the chunks: what progress and the
 * rate limit go by while a copy runs.
 */
import { buffer } from 'node:stream/consumers';
import { to as copyTo } from 'pg-copy-streams';
import { describe, expect, it } from 'vitest';
import { binaryRowCounter, textRowCounter } from '../../src/londiste/copy/row-counter.js';
import { useTestDatabase } from '../harness/database.js';

const test = useTestDatabase();

const rowsSql = `select i, case when i % 3 = 0 then null else repeat(E'a\\nb\\t', i % 7) end,
                        array[i, null], '\\x0a0a'::bytea
                   from generate_series(1, 50) i`;

async function copyBytes(format: 'text' | 'binary'): Promise<Buffer> {
  const client = await test.connect();
  const withFormat = format === 'binary' ? ' with (format binary)' : '';
  return buffer(client.query(copyTo(`copy (${rowsSql}) to stdout${withFormat}`)));
}

/** Cuts `data` into chunks of the given sizes, repeated, and counts them all. */
function countIn(data: Buffer, make: () => { count(chunk: Buffer): number }, sizes: number[]) {
  const counter = make();
  let total = 0;
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    total += counter.count(data.subarray(at, at + size));
    at += size;
  }
  return total;
}

describe('row counters', () => {
  for (const [format, make] of [
    ['text', textRowCounter],
    ['binary', binaryRowCounter],
  ] as const) {
    it(`counts ${format} rows across any chunk boundary`, async () => {
      const data = await copyBytes(format);
      expect(countIn(data, make, [data.length])).toBe(50);
      for (let cut = 1; cut < data.length; cut++) {
        expect(countIn(data, make, [cut, data.length])).toBe(50);
      }
      expect(countIn(data, make, [1])).toBe(50);
      expect(countIn(data, make, [3, 1, 7, 2])).toBe(50);
    });
  }
});
