/**
 * LocalConsumer: the position kept in a local file, written atomically after the work and
 * before the finish; the file wins over the queue at every start; lost positions, bad files,
 * rewind and reset.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalConsumer, type LocalConsumerOptions } from '../../src/pgq/local-consumer.js';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, memoryLogger, register, tick, waitFor } from './helpers.js';

const db = useTestDatabase();
const scratch = mkdtempSync(path.join(tmpdir(), 'skytools-local-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const child = fileURLToPath(new URL('./fixtures/local-child.mjs', import.meta.url));

function local(queue: string, file: string, extra: Partial<LocalConsumerOptions> = {}) {
  return new LocalConsumer({
    connection: db.config(),
    queue,
    consumer: 'local',
    trackingFile: file,
    loopDelay: 0.02,
    ...extra,
  });
}

/** A queue registered for `local`, with `ticks` batches of `perTick` events, and a table. */
async function setup(queue: string, ticks: number, perTick: number): Promise<void> {
  await makeQueue(db, queue);
  await register(db, queue, 'local');
  await db.query(`create table ${queue}_done (ev_id bigint, batch_id bigint)`);
  await addEvents(queue, ticks, perTick);
}

async function addEvents(queue: string, ticks: number, perTick: number): Promise<number> {
  let last = 0;
  for (let t = 0; t < ticks; t++) {
    await db.query(`select pgq.insert_event($1, 'n', i::text) from generate_series(1, $2::int) i`, [
      queue,
      perTick,
    ]);
    last = await tick(db, queue);
  }
  return last;
}

const applyTo =
  (queue: string) =>
  async (event: { id: string }, ctx: { batch: { id: number } }): Promise<void> => {
    await db.query(`insert into ${queue}_done values ($1, $2)`, [event.id, ctx.batch.id]);
  };

async function done(queue: string): Promise<{ events: number; rows: number }> {
  const { rows } = await db.query<{ events: number; rows: number }>(
    `select count(distinct ev_id)::int as events, count(*)::int as rows from ${queue}_done`,
  );
  return rows[0] as { events: number; rows: number };
}

/** Run until the table holds `count` rows and the consumer caught up, then stop gracefully. */
async function runUntil(consumer: LocalConsumer, queue: string, count: number): Promise<void> {
  const stop = new AbortController();
  const running = consumer.run(applyTo(queue), { signal: stop.signal });
  let failed: unknown = null;
  running.catch((error) => {
    failed = error;
  });
  await waitFor(async () => {
    if (failed !== null) return true;
    return (await done(queue)).rows >= count && (await queuePosition(queue)).current === null;
  }, `${count} rows in ${queue}_done`);
  stop.abort();
  await running;
}

async function queuePosition(queue: string): Promise<{ last: number; current: string | null }> {
  const { rows } = await db.query<{ last: string; current: string | null }>(
    "select last_tick::text as last, current_batch::text as current from pgq.get_consumer_info($1, 'local')",
    [queue],
  );
  return { last: Number(rows[0]?.last), current: rows[0]?.current ?? null };
}

const fileIn = (name: string) => path.join(scratch, name);
const readTick = (file: string) => Number(readFileSync(file, 'utf8'));

describe('LocalConsumer', () => {
  it('starts the file from the queue, then keeps the tick of each batch done', async () => {
    await setup('l_plain', 3, 10);
    const file = fileIn('plain.tick');
    const start = await queuePosition('l_plain');
    const log = memoryLogger();
    const consumer = local('l_plain', file, { logger: log });
    await runUntil(consumer, 'l_plain', 30);
    expect(await done('l_plain')).toEqual({ events: 30, rows: 30 });
    const end = await queuePosition('l_plain');
    expect(end.last).toBeGreaterThan(start.last);
    expect(readTick(file)).toBe(end.last);
    expect(consumer.fileTick()).toBe(end.last);
    expect(readFileSync(file, 'utf8')).toBe(`${end.last}\n`);
    expect(log.lines.map((l) => l.msg)).toContain(`${file} started at tick ${start.last}`);
  });

  it('writes the file atomically: a reader never sees a part; a stale .tmp is ignored', async () => {
    await setup('l_atomic', 40, 3);
    const file = fileIn('atomic.tick');
    // Left by a process killed while writing: never read, never in the way.
    writeFileSync(`${file}.99999.tmp`, '12');
    const reader = new Worker(
      `const { readFileSync } = require('node:fs');
       const { parentPort, workerData } = require('node:worker_threads');
       let reads = 0; const bad = []; let stop = false;
       parentPort.on('message', () => { stop = true; });
       const loop = () => {
         for (let i = 0; i < 200; i++) {
           let text;
           try { text = readFileSync(workerData, 'utf8'); } catch (e) { if (e.code !== 'ENOENT') bad.push(e.code); continue; }
           reads++;
           if (!/^\\d+\\n$/.test(text)) bad.push(text);
         }
         if (stop) parentPort.postMessage({ reads, bad }); else setImmediate(loop);
       };
       loop();`,
      { eval: true, workerData: file },
    );
    const result = new Promise<{ reads: number; bad: string[] }>((resolve) =>
      reader.once('message', resolve),
    );
    await runUntil(local('l_atomic', file, { batchMaxEvents: 2 }), 'l_atomic', 120);
    reader.postMessage('stop');
    const seen = await result;
    await reader.terminate();
    expect(seen.bad).toEqual([]);
    expect(seen.reads).toBeGreaterThan(0);
    expect(readTick(file)).toBe((await queuePosition('l_atomic')).last);
    expect(readdirSync(scratch).filter((f) => f.startsWith('atomic.tick.'))).toEqual([
      'atomic.tick.99999.tmp',
    ]);
  });

  it('killed between the file write and finish_batch: the batch is not done again', async () => {
    await setup('l_crash', 3, 10);
    await db.query('create table applied (ev_id bigint, batch_id bigint, run int)');
    const file = fileIn('crash.tick');
    const proc = spawn(
      process.execPath,
      [
        child,
        JSON.stringify(db.config()),
        JSON.stringify(db.config()),
        'l_crash',
        'local',
        file,
        'file-kill',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await new Promise((resolve) => proc.once('exit', resolve));
    expect(proc.signalCode, out).toBe('SIGKILL');
    const saved = Number(/saved (\d+)\n/.exec(out)?.[1]);
    // The queue still has the batch open; the file is at its end tick.
    const open = await queuePosition('l_crash');
    expect(open.current).toBe(String(saved));
    const { rows } = await db.query<{ tick: string }>(
      'select tick_id::text as tick from pgq.get_batch_info($1)',
      [saved],
    );
    expect(readTick(file)).toBe(Number(rows[0]?.tick));

    const log = memoryLogger();
    const consumer = local('l_crash', file, { logger: log });
    const stop = new AbortController();
    const running = consumer.run(
      async (event, ctx) => {
        await db.query('insert into applied values ($1, $2, 1)', [event.id, ctx.batch.id]);
      },
      { signal: stop.signal },
    );
    await waitFor(async () => {
      const n = await db.query<{ n: number }>('select count(*)::int as n from applied');
      return n.rows[0]?.n === 30 && (await queuePosition('l_crash')).current === null;
    }, 'all 30 events applied');
    stop.abort();
    await running;
    const counts = await db.query<{ n: number; d: number; batches: number }>(
      'select count(*)::int as n, count(distinct ev_id)::int as d, count(distinct batch_id) filter (where batch_id = $1)::int as batches from applied',
      [saved],
    );
    expect(counts.rows[0]).toEqual({ n: 30, d: 30, batches: 1 });
    expect(log.lines.some((l) => /^consumer moved from tick \d+ to tick \d+ of /.test(l.msg))).toBe(
      true,
    );
  });

  it('a batch that ends at the file tick is finished without calling the handler', async () => {
    await setup('l_skip', 1, 4);
    const file = fileIn('skip.tick');
    let ahead = 0;
    const consumer = local('l_skip', file, {
      // While the first batch is being finished, the next one appears and the file already
      // claims it: what a process that died after the file write leaves behind.
      onPositionSaved: async () => {
        if (ahead !== 0) return;
        ahead = await addEvents('l_skip', 1, 6);
        writeFileSync(file, `${ahead}\n`);
      },
    });
    const seen: string[] = [];
    const stop = new AbortController();
    const running = consumer.run(
      (event) => {
        seen.push(event.data as string);
      },
      { signal: stop.signal },
    );
    await waitFor(
      async () => ahead !== 0 && (await queuePosition('l_skip')).last === ahead,
      'the queue to pass the skipped batch',
    );
    stop.abort();
    await running;
    expect(seen).toEqual(['1', '2', '3', '4']);
    expect(readTick(file)).toBe(ahead);
  });

  it('the file wins at start: the queue is moved back to its tick', async () => {
    await setup('l_back', 2, 5);
    const file = fileIn('back.tick');
    const before = await queuePosition('l_back');
    await runUntil(local('l_back', file), 'l_back', 10);
    const after = await queuePosition('l_back');
    writeFileSync(file, `${before.last}\n`);
    const log = memoryLogger();
    await runUntil(local('l_back', file, { logger: log }), 'l_back', 20);
    expect(log.lines.map((l) => l.msg)).toContain(
      `consumer moved from tick ${after.last} to tick ${before.last} of ${file}`,
    );
    expect(await done('l_back')).toEqual({ events: 10, rows: 20 });
    expect(readTick(file)).toBe(after.last);
  });

  it('lost position: a file from elsewhere, at start and while running', async () => {
    await setup('l_lost', 2, 3);
    const file = fileIn('lost.tick');
    writeFileSync(file, '999999\n');
    const atStart = await local('l_lost', file)
      .run(applyTo('l_lost'))
      .catch((e) => e);
    expect(atStart.code).toBe('LOST_POSITION');
    expect(atStart.message).toBe(
      `cannot move consumer "local" on queue "l_lost" to tick 999999 of ${file}: cannot reposition, tick not found: 999999`,
    );
    expect(atStart.context).toMatchObject({
      queue: 'l_lost',
      consumer: 'local',
      file,
      tick: 999999,
    });

    // While running, the file turns to another tick of this queue than where the queue is.
    const first = (await queuePosition('l_lost')).last;
    writeFileSync(file, `${first}\n`);
    let saved = 0;
    const lost = await local('l_lost', file, {
      onPositionSaved: (batch) => {
        saved = batch.info.tickId;
        writeFileSync(file, `${first}\n`);
      },
    })
      .run(applyTo('l_lost'))
      .catch((e) => e);
    expect(lost.code).toBe('LOST_POSITION');
    expect(lost.message).toMatch(
      new RegExp(
        `^Lost position: batch \\d+ of queue "l_lost" for consumer "local" goes from tick ${saved} to \\d+, but ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is at tick ${first}; rewind\\(\\) moves`,
      ),
    );
    expect(await done('l_lost')).toEqual({ events: 3, rows: 3 });
    expect(lost.context).toMatchObject({ file, fileTick: first, prevTick: saved });
  });

  it('a file holding garbage, or in a missing directory, is a clear error', async () => {
    await setup('l_bad', 1, 1);
    const garbage = fileIn('garbage.tick');
    writeFileSync(garbage, 'tick? what tick\n');
    const bad = await local('l_bad', garbage)
      .run(applyTo('l_bad'))
      .catch((e) => e);
    expect(bad.code).toBe('BAD_TRACKING_FILE');
    expect(bad.message).toBe(
      `${garbage} holds no tick id ("tick? what tick"); fix it, or remove it (reset, --reset) to start from the queue's position`,
    );
    expect(bad.context).toMatchObject({ file: garbage, queue: 'l_bad', consumer: 'local' });

    const missing = path.join(scratch, 'no-such-dir', 'x.tick');
    const nodir = await local('l_bad', missing)
      .run(applyTo('l_bad'))
      .catch((e) => e);
    expect(nodir.code).toBe('BAD_TRACKING_FILE');
    expect(nodir.message).toBe(
      `cannot write tracking file ${missing}: its directory ${path.dirname(missing)} does not exist (create it first)`,
    );
    expect(await done('l_bad')).toEqual({ events: 0, rows: 0 });
  });

  it('rewind moves the queue to the file tick; reset removes the file', async () => {
    await setup('l_rw', 2, 2);
    const file = fileIn('rw.tick');
    const consumer = local('l_rw', file);
    const none = await consumer.rewind().catch((e) => e);
    expect(none.code).toBe('NO_TRACKING_FILE');
    const start = (await queuePosition('l_rw')).last;
    await runUntil(local('l_rw', file), 'l_rw', 4);
    writeFileSync(file, `${start}\n`);
    expect(await consumer.rewind()).toBe(start);
    expect((await queuePosition('l_rw')).last).toBe(start);

    // Not while it runs elsewhere.
    const stop = new AbortController();
    const running = local('l_rw', file).run(applyTo('l_rw'), { signal: stop.signal });
    await waitFor(async () => (await done('l_rw')).rows === 8, 'the replay');
    const locked = await consumer.rewind().catch((e) => e);
    expect(locked.code).toBe('CONSUMER_LOCKED');
    stop.abort();
    await running;

    expect(consumer.reset()).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(consumer.reset()).toBe(false);
    // A new registration starts at the queue's tick: a file left from before is removed.
    writeFileSync(file, `${start}\n`);
    expect(await local('l_rw', file, { consumer: 'fresh' }).register()).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it('a failing handler leaves the batch and the file; retries are refused', async () => {
    await setup('l_fail', 1, 3);
    const file = fileIn('fail.tick');
    const failing = await local('l_fail', file)
      .run((event) => {
        if (event.data === '2') throw new Error('no thanks');
      })
      .catch((e) => e);
    expect(failing.code).toBe('HANDLER_FAILED');
    expect(failing.message).toMatch(
      /^event \d+ of batch \d+ failed; the batch is left unfinished and .* unchanged: no thanks$/,
    );
    const start = readTick(file);
    expect((await queuePosition('l_fail')).last).toBe(start);

    const stop = new AbortController();
    const iterated = (async () => {
      for await (const batch of local('l_fail', file, { signal: stop.signal })) {
        for await (const event of batch) event.retry(10);
      }
    })().catch((e) => e);
    const refused = await iterated;
    expect(refused.code).toBe('RETRY_UNSUPPORTED');
    expect(readTick(file)).toBe(start);

    await runUntil(local('l_fail', file), 'l_fail', 3);
    expect(await done('l_fail')).toEqual({ events: 3, rows: 3 });
  });

  it('refuses options that do not fit file tracking', () => {
    const base = { connection: db.config(), queue: 'q', consumer: 'c' };
    const make = (extra: Record<string, unknown>) => () =>
      new LocalConsumer({ ...base, trackingFile: 'x.tick', ...extra } as LocalConsumerOptions);
    expect(make({ trackingFile: '' })).toThrow(/option trackingFile is required/);
    expect(make({ transactional: true })).toThrow(/option transactional does not apply/);
    expect(make({ maxRetries: 3 })).toThrow(/option maxRetries does not apply/);
  });
});
