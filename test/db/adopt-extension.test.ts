/**
 * `skytools upgrade --adopt` of Debian's upstream extensions (pgq, pgq_node, londiste; the
 * PostgreSQL 15 leg, where .ci/run installs them) while a producer writes through a trigger
 * and pgq.insert_event, a ticker ticks and a consumer reads: every event arrives exactly once
 * across the switch, from upstream's C code before and ours after.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { upgradeDatabase } from '../../src/db/upgrade.js';
import { SkytoolsError } from '../../src/errors.js';
import { useTestDatabase } from '../harness/database.js';
import { useLoginRoles } from '../harness/grants.js';
import { until } from '../harness/until.js';

const db = useTestDatabase();
const roles = useLoginRoles(db, { stranger: null });
let upstreamShipped = false;

beforeAll(async () => {
  const { rowCount } = await db.query(
    "select 1 from pg_available_extensions where name in ('pgq', 'pgq_node', 'londiste')",
  );
  upstreamShipped = rowCount === 3;
  // Debian ships them for PostgreSQL 15 only, and .ci/run installs them there.
  if (!upstreamShipped) expect(db.cluster.pgMajor).not.toBe(15);
});

async function upstreamDatabase(suffix: string): Promise<[string, pg.Client]> {
  const database = await db.createDatabase(suffix);
  const client = await db.connect({ database });
  await client.query('create extension pgq');
  await client.query('create extension pgq_node');
  await client.query('create extension londiste');
  return [database, client];
}

/** Writes rows (trigger) and direct events, one per transaction, until stopped. */
function startProducer(client: pg.Client) {
  let stopped = false;
  let written = 0;
  const done = (async () => {
    while (!stopped) {
      written += 1;
      if (written % 2 === 0) {
        await client.query('insert into items values ($1)', [written]);
      } else {
        await client.query("select pgq.insert_event('live', 'direct', $1)", [String(written)]);
      }
    }
  })();
  return {
    written: () => written,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** Ticks and consumes through the SQL API (upstream's and ours alike), keeping every event. */
function startConsumer(client: pg.Client) {
  let stopped = false;
  const seen: number[] = [];
  const done = (async () => {
    while (!stopped) {
      await client.query("select pgq.ticker('live')");
      const batch = await client.query<{ id: string | null }>(
        "select pgq.next_batch('live', 'reader')::text as id",
      );
      const id = batch.rows[0]?.id;
      if (id === null || id === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const events = await client.query<{ ev_type: string; ev_data: string }>(
        'select ev_type, ev_data from pgq.get_batch_events($1)',
        [id],
      );
      for (const event of events.rows) {
        seen.push(
          event.ev_type === 'direct'
            ? Number(event.ev_data)
            : Number(/id=(\d+)/.exec(event.ev_data)?.[1]),
        );
      }
      await client.query('select pgq.finish_batch($1)', [id]);
    }
  })();
  return {
    seen,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe('adopting the upstream extensions', () => {
  it('keeps every event exactly once while a producer and a consumer run across it', async (context) => {
    if (!upstreamShipped) context.skip();
    const [database, client] = await upstreamDatabase('live');
    await client.query("select pgq.create_queue('live')");
    await client.query("select pgq.register_consumer('live', 'reader')");
    await client.query('create table items (id int primary key)');
    await client.query(
      "create trigger items_q after insert on items for each row execute procedure pgq.logutriga('live')",
    );
    const producer = startProducer(await db.connect({ database }));
    const consumer = startConsumer(await db.connect({ database }));
    try {
      await until(
        'events before the adoption',
        async () => consumer.seen.length,
        (n) => n >= 100,
      );
      const report = await upgradeDatabase(client, { adopt: true });
      expect(
        report.schemas.filter((s) => s.result).map((s) => [s.state.kind, s.state.schema]),
      ).toEqual([
        ['upstream-extension', 'pgq'],
        ['upstream-extension', 'pgq_node'],
        ['upstream-extension', 'londiste'],
      ]);
      const after = producer.written();
      await until(
        'events after the adoption',
        async () => consumer.seen.length,
        (n) => n >= after + 100,
      );
    } finally {
      await producer.stop();
    }
    const written = producer.written();
    await until(
      'the last events',
      async () => consumer.seen.length,
      (n) => n >= written,
    );
    await consumer.stop();
    expect([...consumer.seen].sort((a, b) => a - b)).toEqual(
      Array.from({ length: written }, (_, i) => i + 1),
    );
    const { rows } = await client.query(
      `select (select count(*) from pg_extension where extname in ('pgq', 'pgq_node', 'londiste'))::int as extensions,
              (select count(*) from pg_proc p join pg_language l on l.oid = p.prolang
                where l.lanname = 'c' and p.pronamespace::regnamespace::text in ('pgq', 'pgq_node', 'londiste'))::int as c_functions,
              pgq.skytools_version() is not null as ours`,
    );
    expect(rows[0]).toEqual({ extensions: 0, c_functions: 0, ours: true });
  });

  it('-n proves it would work and keeps the extensions', async (context) => {
    if (!upstreamShipped) context.skip();
    const [, client] = await upstreamDatabase('dry');
    const report = await upgradeDatabase(client, { adopt: true, notReally: true });
    expect(report.changed).toBe(true);
    const { rows } = await client.query(
      "select count(*)::int as n from pg_extension where extname in ('pgq', 'pgq_node', 'londiste')",
    );
    expect(rows[0].n).toBe(3);
  });

  it('refuses a role that does not own the extensions, naming them, and changes nothing', async (context) => {
    if (!upstreamShipped) context.skip();
    const [database] = await upstreamDatabase('owner');
    const stranger = await db.connect({ database, user: roles.stranger });
    const failure = await upgradeDatabase(stranger, { adopt: true }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SkytoolsError);
    expect((failure as SkytoolsError).message).toMatch(
      /^not adopted, nothing changed: extension pgq belongs to role \S+; run as that role or a superuser; extension pgq_node belongs to role \S+; .*extension londiste belongs/,
    );
    const { rows } = await stranger.query(
      "select count(*)::int as n from pg_extension where extname in ('pgq', 'pgq_node', 'londiste')",
    );
    expect(rows[0].n).toBe(3);
  });
});
