/**
 * CoopConsumer: members of one consumer share its batches through pgq_coop; a killed member's
 * batch is taken over after the dead interval; unregistering with an open batch.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CoopConsumer } from '../../src/pgq/coop-consumer.js';
import type { Event } from '../../src/pgq/event.js';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, tick, waitFor } from './helpers.js';

const db = useTestDatabase();
const child = fileURLToPath(new URL('./fixtures/coop-child.mjs', import.meta.url));

function member(queue: string, sub: string, extra: Record<string, unknown> = {}) {
  return new CoopConsumer({
    connection: db.config(),
    queue,
    consumer: 'crew',
    subconsumer: sub,
    loopDelay: 0.02,
    ...extra,
  });
}

/** `ticks` batches of `perTick` events with data 0, 1, 2, ... */
async function stream(queue: string, ticks: number, perTick: number): Promise<void> {
  for (let t = 0; t < ticks; t++) {
    await db.query(
      `select pgq.insert_event($1, 'n', i::text) from generate_series($2::int, $3::int) i`,
      [queue, t * perTick, (t + 1) * perTick - 1],
    );
    await tick(db, queue);
  }
}

/** Every event id of the queue, read from its event tables (the parent covers them all). */
async function eventIds(queue: string): Promise<string[]> {
  const { rows: q } = await db.query<{ pfx: string }>(
    'select queue_data_pfx as pfx from pgq.queue where queue_name = $1',
    [queue],
  );
  const { rows } = await db.query<{ ev_id: string }>(
    `select ev_id::text from ${q[0]?.pfx} order by ev_id`,
  );
  return rows.map((r) => r.ev_id);
}

describe('CoopConsumer', () => {
  it('four members share the batches: each event handled once, each batch by one member', async () => {
    const queue = 'coop_share';
    await makeQueue(db, queue);
    const subs = ['a', 'b', 'c', 'd'];
    const members = subs.map((s) => member(queue, s));
    expect(await members[0]?.register()).toBe(true);
    expect(await members[0]?.register()).toBe(false);
    for (const m of members.slice(1)) await m.register();
    await stream(queue, 24, 40);

    const handled: { sub: string; batch: number; data: string }[] = [];
    // Every member holds its first batch until all four hold one: the batches really are
    // handed to four members at once, not all to whoever asks first.
    const holding = new Set<string>();
    let release: () => void = () => {};
    const allHolding = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stop = new AbortController();
    const runs = members.map((m) =>
      m.run(
        async (event: Event, ctx) => {
          handled.push({ sub: m.subconsumer, batch: ctx.batch.id, data: event.data as string });
          if (!holding.has(m.subconsumer)) {
            holding.add(m.subconsumer);
            if (holding.size === subs.length) release();
            await allHolding;
          }
          if (handled.length === 24 * 40) stop.abort();
        },
        { signal: stop.signal },
      ),
    );
    await Promise.all(runs);

    expect(holding.size).toBe(4);
    expect(handled.map((h) => Number(h.data)).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 24 * 40 }, (_, i) => i),
    );
    const owner = new Map<number, string>();
    for (const h of handled) {
      expect(owner.get(h.batch) ?? h.sub, `batch ${h.batch}`).toBe(h.sub);
      owner.set(h.batch, h.sub);
    }
    // The group's position moved past every batch: nothing left for anyone.
    const { rows } = await db.query<{ b: string | null }>(
      "select pgq_coop.next_batch($1, 'crew', 'a') as b",
      [queue],
    );
    expect(rows[0]?.b).toBeNull();
  });

  it('a retried event comes back to the group', async () => {
    const queue = 'coop_retry';
    await makeQueue(db, queue);
    const a = member(queue, 'a', { retryDelay: 0 });
    await a.register();
    await db.query(`select pgq.insert_event($1, 'n', 'once')`, [queue]);
    await tick(db, queue);
    const seen: (number | null)[] = [];
    const stop = new AbortController();
    const run = a.run(
      async (event: Event) => {
        seen.push(event.retryCount);
        if (seen.length === 1) throw new Error('not yet');
        stop.abort();
      },
      { signal: stop.signal },
    );
    await waitFor(async () => {
      await db.query('select pgq.maint_retry_events()');
      await tick(db, queue);
      return seen.length >= 2;
    }, 'the retried event');
    await run;
    expect(seen).toEqual([null, 1]);
  });

  it('a member killed mid-batch: its batch is taken over after the dead interval', async () => {
    const queue = 'coop_kill';
    await makeQueue(db, queue);
    await db.query(
      'create table coop_processed (ev_id bigint, batch_id bigint, sub text, at timestamptz default clock_timestamp())',
    );
    await member(queue, 'victim').register();
    await stream(queue, 10, 30);

    const victim = spawnChild(queue, 'victim', 'hang', 10);
    const held = Number(await victim.line(/holding (\d+)\n/));
    victim.proc.kill('SIGKILL');
    await victim.exited;

    // Long enough that a live sibling's batch, slowed down on a loaded machine, is never taken
    // for dead (its member would then fail to finish it); the victim's batch is older anyway.
    const siblings = ['b', 'c', 'd'].map((s) => member(queue, s, { subconsumerTimeout: 5 }));
    const stop = new AbortController();
    const total = 10 * 30;
    const runs = siblings.map((m) =>
      m.run(
        async (event: Event, ctx) => {
          await db.query('insert into coop_processed (ev_id, batch_id, sub) values ($1, $2, $3)', [
            event.id,
            ctx.batch.id,
            m.subconsumer,
          ]);
        },
        { signal: stop.signal },
      ),
    );
    await waitFor(async () => {
      const { rows } = await db.query<{ n: number }>(
        'select count(distinct ev_id)::int as n from coop_processed',
      );
      return rows[0]?.n === total;
    }, 'every event');
    stop.abort();
    await Promise.all(runs);

    const ids = await eventIds(queue);
    expect(ids.length).toBe(total);
    const { rows } = await db.query<{ ev_id: string; batch_id: string; n: number; subs: string[] }>(
      `select ev_id::text, min(batch_id)::text as batch_id, count(*)::int as n,
              array_agg(sub order by at) as subs
         from coop_processed group by ev_id order by ev_id`,
    );
    expect(rows.map((r) => r.ev_id)).toEqual(ids);
    // Only the killed member's batch was handled twice, and a sibling handled all of it.
    for (const r of rows) {
      if (Number(r.batch_id) === held) {
        expect(r.subs.filter((s) => s !== 'victim').length, `event ${r.ev_id}`).toBe(1);
      } else {
        expect(r.n, `event ${r.ev_id}`).toBe(1);
      }
    }
    const victimRows = rows.filter((r) => r.subs.includes('victim'));
    expect(victimRows.length).toBe(10);
    // The dead member's row is gone; it registers again when it next asks.
    const { rows: subsLeft } = await db.query<{ co_name: string }>(
      `select c.co_name from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
        join pgq.queue q on q.queue_id = s.sub_queue where q.queue_name = $1 order by 1`,
      [queue],
    );
    expect(subsLeft.map((r) => r.co_name)).not.toContain('crew.victim');
  });

  it('unregister with an open batch: refused, then dropped with dropBatch', async () => {
    const queue = 'coop_unreg';
    await makeQueue(db, queue);
    const a = member(queue, 'a');
    const b = member(queue, 'b');
    await a.register();
    await b.register();
    await stream(queue, 2, 5);
    let held = 0;
    for await (const batch of a) {
      held = batch.id;
      break; // leaves the batch open on a's row
    }
    const refused = await a.unregister().catch((e) => e);
    expect(refused.code).toBe('BATCH_OPEN');
    expect(refused.message).toMatch(/has an open batch/);
    expect(await a.unregister({ dropBatch: true })).toBe(1);
    expect(await a.unregister()).toBe(0);

    // The dropped batch's events are abandoned: b gets only the other batch.
    const seen: number[] = [];
    for await (const batch of b) {
      for await (const event of batch) seen.push(Number(event.data));
      expect(batch.id).not.toBe(held);
      await batch.finish();
      break;
    }
    expect(seen.length).toBe(5);
    const { rows } = await db.query<{ b: string | null }>(
      "select pgq_coop.next_batch($1, 'crew', 'b') as b",
      [queue],
    );
    expect(rows[0]?.b).toBeNull();
  });

  it('bad input: clear errors', async () => {
    const queue = 'coop_bad';
    await makeQueue(db, queue);
    expect(() => member(queue, '')).toThrow(/subconsumer must be a non-empty string/);
    expect(() => member(queue, 'a', { subconsumerTimeout: 0 })).toThrow(/subconsumerTimeout/);
    const unknown = await member('no_such_queue', 'a')
      [Symbol.asyncIterator]()
      .next()
      .catch((e) => e);
    expect(unknown.code).toBe('QUEUE_NOT_FOUND');
    const unregistered = await member(queue, 'a')
      [Symbol.asyncIterator]()
      .next()
      .catch((e) => e);
    expect(unregistered.code).toBe('CONSUMER_NOT_REGISTERED');

    // Two processes with one subconsumer name: the second refuses; another name is fine.
    await member(queue, 'a').register();
    const first = member(queue, 'a');
    const stop = new AbortController();
    const running = first.run(() => {}, { signal: stop.signal });
    await waitFor(async () => {
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from pg_locks
          where locktype = 'advisory' and granted
            and database = (select oid from pg_database where datname = current_database())`,
      );
      return (rows[0]?.n ?? 0) > 0;
    }, 'the first member to lock');
    const second = await member(queue, 'a')
      .run(() => {})
      .catch((e) => e);
    expect(second.code).toBe('CONSUMER_LOCKED');
    expect(second.message).toMatch(/"crew\.a" .* already running/);
    const other = member(queue, 'b');
    const otherStop = new AbortController();
    const otherRun = other.run(() => {}, { signal: otherStop.signal });
    otherStop.abort();
    stop.abort();
    await Promise.all([running, otherRun]);
  });
});

interface Child {
  proc: ChildProcess;
  exited: Promise<number | null>;
  line(pattern: RegExp): Promise<string>;
}

function spawnChild(queue: string, sub: string, mode: string, half: number): Child {
  const proc = spawn(
    process.execPath,
    [child, JSON.stringify(db.config()), queue, 'crew', sub, mode, String(half)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  return {
    proc,
    exited,
    async line(pattern) {
      let match: RegExpExecArray | null = null;
      await waitFor(async () => {
        match = pattern.exec(out);
        if (match === null && proc.exitCode !== null) throw new Error(`child exited: ${out}`);
        return match !== null;
      }, `${pattern} from the child`);
      return (match as unknown as RegExpExecArray)[1] as string;
    },
  };
}
