/**
 * The COPY relay: the message reader finds the same messages however the socket cuts the
 * bytes, and between two real sessions the rows arrive as they left, with the server's
 * notices, a row larger than any socket read, and each side's failure ending both COPYs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageReader, relayCopy } from '../../src/londiste/copy/relay.js';
import { useTestDatabase } from '../harness/database.js';
import { idle, useCopyDatabases } from './helpers.js';

const test = useTestDatabase();
const dbs = useCopyDatabases(test);

function message(code: string, body: Buffer | string): Buffer {
  const bytes = Buffer.from(body);
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeUInt32BE(bytes.length + 4, 1);
  return Buffer.concat([head, bytes]);
}

/** A COPY OUT answer: CopyOutResponse, rows, notices in between, CopyDone, the tag, ready. */
function answer(rows: number): { wire: Buffer; data: Buffer; others: Buffer[]; rest: Buffer } {
  const parts: Buffer[] = [message('H', Buffer.from([0, 0, 1, 0, 0]))];
  const data: Buffer[] = [];
  const others: Buffer[] = [];
  for (let i = 0; i < rows; i++) {
    const row = message('d', `${i}\t${'x'.repeat((i * 37) % 300)}\n`);
    parts.push(row);
    data.push(row);
    if (i % 17 === 5) {
      const notice = message('N', `SNOTICE\0Mrow ${i}\0\0`);
      parts.push(notice);
      others.push(notice);
    }
  }
  const rest = Buffer.concat([message('c', ''), message('C', 'COPY 9\0'), message('Z', 'T')]);
  parts.push(rest);
  return { wire: Buffer.concat(parts), data: Buffer.concat(data), others, rest };
}

describe('MessageReader', () => {
  const sample = answer(200);
  for (const sizes of [[1], [2, 3, 5], [4096], [7, 1, 64, 3], [sample.wire.length]]) {
    it(`finds whole messages in chunks of ${sizes.join(', ')} bytes`, () => {
      const reader = new MessageReader();
      const runs: Buffer[] = [];
      const others: Buffer[] = [];
      let copyData = 0;
      let rest: Buffer | undefined;
      let at = 0;
      for (let i = 0; at < sample.wire.length && rest === undefined; i++) {
        const size = sizes[i % sizes.length] as number;
        const read = reader.read(sample.wire.subarray(at, at + size), (m) => others.push(m));
        at += size;
        copyData += read.copyData;
        // Only whole CopyData messages come out of each read.
        const out = Buffer.concat(read.runs);
        expect(out.length).toBe(read.runBytes);
        let walk = 0;
        while (walk < out.length) {
          expect(out[walk]).toBe(0x64);
          walk += 1 + out.readUInt32BE(walk + 1);
        }
        expect(walk).toBe(out.length);
        runs.push(out);
        if (read.rest !== undefined) rest = Buffer.concat([read.rest, sample.wire.subarray(at)]);
      }
      expect(Buffer.concat(runs).equals(sample.data)).toBe(true);
      expect(copyData).toBe(200);
      expect(others.map((o) => o.toString('latin1'))).toEqual([
        // The CopyOutResponse is read too; the relay drops it.
        message('H', Buffer.from([0, 0, 1, 0, 0])).toString('latin1'),
        ...sample.others.map((o) => o.toString('latin1')),
      ]);
      expect(rest?.equals(sample.rest)).toBe(true);
    });
  }

  it('refuses a length that cannot be', () => {
    const bad = Buffer.from([0x64, 0, 0, 0, 2]);
    expect(() => new MessageReader().read(bad, () => {})).toThrow(
      'bad message length 2 in the COPY data',
    );
  });
});

describe('relayCopy between two sessions', () => {
  const table = 'public.relayed';
  beforeAll(async () => {
    const ddl = `create table ${table} (id int primary key, v text);
      create function public.noisy(i int) returns int language plpgsql as
        $$ begin if i % 1000 = 0 then raise notice 'row %', i; end if; return i; end $$;`;
    await dbs.source.query(ddl);
    await dbs.dest.query(ddl);
    await dbs.source.query(
      `insert into ${table} select i, repeat(md5(i::text), 1 + i % 20) from generate_series(1, 20000) i`,
    );
    // One row larger than any socket read.
    await dbs.source.query(`insert into ${table} values (0, repeat('z', 3 * 1024 * 1024))`);
  });
  afterAll(async () => {
    await dbs.dest.query(`drop table if exists ${table}`);
  });

  async function relayInto(copyOut: string, options: { signal?: AbortSignal } = {}) {
    await dbs.dest.query('begin');
    await dbs.dest.query(`truncate ${table}`);
    return relayCopy({
      source: dbs.source,
      dest: dbs.dest,
      copyOut,
      copyIn: `copy ${table} from stdin with (format binary)`,
      abortError: () => new Error('stopped'),
      ...options,
    });
  }

  it('moves every row and passes the notices on to the client', async () => {
    const notices: string[] = [];
    const onNotice = (n: { message?: string }) => notices.push(n.message ?? '');
    dbs.source.on('notice', onNotice);
    try {
      const done = await relayInto(
        `copy (select public.noisy(id), v from ${table}) to stdout with (format binary)`,
      );
      await dbs.dest.query('commit');
      expect(done).toMatchObject({ destRows: 20001, sourceRows: 20001, messages: 20002 });
    } finally {
      dbs.source.off('notice', onNotice);
    }
    // In the heap's order: the big row 0 went in last.
    expect(notices).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `row ${(i + 1) * 1000}`),
      'row 0',
    ]);
    const sums = `select count(*)::int as n, md5(string_agg(v, ',' order by id)) as h from ${table}`;
    const [a, b] = await Promise.all([dbs.source.query(sums), dbs.dest.query(sums)]);
    expect(b.rows).toEqual(a.rows);
    // Both sessions go on as usual.
    expect(await idle(dbs.source)).toBe(true);
    expect(await idle(dbs.dest)).toBe(true);
  });

  it('a source error ends the destination COPY, and both sessions stay usable', async () => {
    const failing = `copy (select case when id = 15000 then 1 / (id - id) else id end, v
                      from ${table}) to stdout with (format binary)`;
    await expect(relayInto(failing)).rejects.toThrow('division by zero');
    await dbs.dest.query('rollback');
    expect(await idle(dbs.source)).toBe(true);
    expect(await idle(dbs.dest)).toBe(true);
  });

  it('a destination error cancels the source COPY', async () => {
    await dbs.dest.query(`alter table ${table} add constraint small check (id < 5000) not valid`);
    try {
      await expect(relayInto(`copy ${table} to stdout with (format binary)`)).rejects.toThrow(
        /violates check constraint "small"/,
      );
      await dbs.dest.query('rollback');
    } finally {
      await dbs.dest.query(`alter table ${table} drop constraint small`);
    }
    expect(await idle(dbs.source)).toBe(true);
    expect(await idle(dbs.dest)).toBe(true);
  });

  it('an abort mid-stream ends both COPYs and rejects with the caller error', async () => {
    const controller = new AbortController();
    await dbs.dest.query('begin');
    await dbs.dest.query(`truncate ${table}`);
    const relay = relayCopy({
      source: dbs.source,
      dest: dbs.dest,
      copyOut: `copy ${table} to stdout with (format binary)`,
      copyIn: `copy ${table} from stdin with (format binary)`,
      signal: controller.signal,
      abortError: () => new Error('stopped by the caller'),
      onChunk: (messages) => {
        if (messages > 100) controller.abort();
      },
      // Slow enough that the abort comes before the end.
      delayAfter: (messages) => messages / 10,
    });
    await expect(relay).rejects.toThrow('stopped by the caller');
    await dbs.dest.query('rollback');
    expect(await idle(dbs.source)).toBe(true);
    expect(await idle(dbs.dest)).toBe(true);
    const { rows } = await dbs.dest.query(`select count(*)::int as n from ${table}`);
    expect(rows[0].n).toBe(20001);
  });
});
