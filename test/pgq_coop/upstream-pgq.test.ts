import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();

// pgq_coop needs only pgq's SQL API and tables, so it also runs over the upstream C extension
// pgq (Debian's postgresql-15-pgq3, which .ci/run installs for PostgreSQL 15).
describe('pgq_coop over the upstream pgq extension', () => {
  it('installs and shares a queue between subconsumers', async () => {
    const database = await db.createDatabase('upstream');
    const client = new pg.Client(db.config({ database }));
    await client.connect();
    try {
      const available = await client.query(
        "select 1 from pg_available_extensions where name = 'pgq'",
      );
      if (available.rowCount === 0) {
        // Only Debian's PostgreSQL 15 packages have it; .ci/run installs them for 15.
        expect(db.cluster.pgMajor).not.toBe(15);
        return;
      }
      await client.query('create extension pgq');
      const [result] = await installSchemas(client, ['pgq_coop']);
      expect(result).toMatchObject({ schema: 'pgq_coop', previous: null });

      const q = async (sql: string, values?: unknown[]) => (await client.query(sql, values)).rows;
      await q("select pgq.create_queue('up')");
      await q("select pgq_coop.register_subconsumer('up', 'main', 'a')");
      await q("select pgq_coop.register_subconsumer('up', 'main', 'b')");
      for (const data of ['one', 'two', 'three']) {
        await q("select pgq.insert_event('up', 't', $1)", [data]);
        await q("select pgq.force_tick('up')");
        await q("select pgq.ticker('up')");
      }
      const [a] = await q("select pgq_coop.next_batch('up', 'main', 'a') as b");
      const [b] = await q("select pgq_coop.next_batch('up', 'main', 'b', '1 hour') as b");
      expect(a?.b).not.toBeNull();
      expect(b?.b).not.toBe(a?.b);
      const eventsA = await q('select ev_data from pgq.get_batch_events($1)', [a?.b]);
      const eventsB = await q('select ev_data from pgq.get_batch_events($1)', [b?.b]);
      expect(eventsA.map((row) => row.ev_data)).toEqual(['one']);
      expect(eventsB.map((row) => row.ev_data)).toEqual(['two']);
      expect(await q('select pgq_coop.finish_batch($1) as r', [a?.b])).toEqual([{ r: 1 }]);

      // b dies holding its batch; a takes it over.
      await q(
        `update pgq.subscription set sub_active = now() - interval '2 hours' where sub_batch = $1`,
        [b?.b],
      );
      expect(await q("select pgq_coop.next_batch('up', 'main', 'a', '1 hour') as b")).toEqual([
        { b: b?.b },
      ]);
      expect(await q('select pgq_coop.finish_batch($1) as r', [b?.b])).toEqual([{ r: 1 }]);
      expect(await q("select pgq_coop.unregister_subconsumer('up', 'main', 'a', 0) as r")).toEqual([
        { r: 1 },
      ]);
      expect(await q("select pgq.unregister_consumer('up', 'main') as r")).toEqual([{ r: 1 }]);
    } finally {
      await client.end();
    }
  });
});
