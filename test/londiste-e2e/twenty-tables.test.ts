/**
 * Londiste end to end with our tools only: root -> branch -> leaf on three databases,
 * ticked by our pgqd. Twenty tables are added one by one on every node while a producer
 * writes to all of them; a big table is copied while the others keep replaying (their lag
 * during the copy is logged); at the end every table is equal row by row on all nodes.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { useToolRun } from '../harness/tool-processes.js';
import { until } from '../harness/until.js';

const db = useTestDatabase();
const run = useToolRun();
const stress = process.env.SKYTOOLS_STRESS === '1';
const deadline = 1_800_000;
const bigRows = 1_000_000;
// A stress scenario (minutes): the normal suite's short forms are test/londiste-worker's
// root-leaf and branch tests.
const tableCount = 20;

const tableName = (n: number) => (n === 0 ? 'public.big' : `public."T${n} Ünï"`);
const storedName = (n: number) => (n === 0 ? 'public.big' : `public.T${n} Ünï`);

async function checksum(client: pg.Client, table: string) {
  const { rows } = await client.query(
    `select count(*)::int as n, coalesce(sum(hashtext(t::text)::bigint), 0)::text as h from ${table} t`,
  );
  return rows[0];
}

describe.runIf(stress)(
  'twenty tables, root -> branch -> leaf, added while a producer writes',
  () => {
    it('ends with every table equal on every node', async () => {
      const names = ['root', 'branch', 'leaf'] as const;
      const dbs = Object.fromEntries(
        await Promise.all(
          names.map(async (n) => [
            n,
            await db.createDatabase(n, { template: db.cluster.templateDatabase }),
          ]),
        ),
      ) as Record<(typeof names)[number], string>;
      const clients = Object.fromEntries(
        await Promise.all(names.map(async (n) => [n, await db.connect({ database: dbs[n] })])),
      ) as Record<(typeof names)[number], pg.Client>;
      const connstr = (d: string) =>
        `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user} dbname=${d}`;
      for (const n of names) {
        for (let t = 0; t <= tableCount; t++) {
          await clients[n].query(
            `create table ${tableName(t)} (id bigint primary key, k2 int, v text, b bytea, j jsonb)`,
          );
        }
      }
      await clients.root.query(
        `insert into public.big select g, g % 100, repeat('x', 20) || g, '\\x00ff', '{"a": 1}'
       from generate_series(1, ${bigRows}) g`,
      );
      const ini = (n: (typeof names)[number]) =>
        run.ini(n, 'londiste', {
          db: connstr(dbs[n]),
          queue_name: 'rq',
          loop_delay: 0.2,
          parallel_copies: 2,
        });
      const inis = { root: ini('root'), branch: ini('branch'), leaf: ini('leaf') };
      const ok = async (args: string[]) => {
        const result = await run.tool('londiste', args);
        expect(result.output).not.toMatch(/error:/);
        expect(result.code).toBe(0);
      };
      await ok([inis.root, 'create-root', 'root', connstr(dbs.root)]);
      await ok([
        inis.branch,
        'create-branch',
        'branch',
        connstr(dbs.branch),
        `--provider=${connstr(dbs.root)}`,
      ]);
      await ok([
        inis.leaf,
        'create-leaf',
        'leaf',
        connstr(dbs.leaf),
        `--provider=${connstr(dbs.branch)}`,
      ]);
      run.start('pgqd', [
        run.ini('ticker', 'pgqd', {
          base_connstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
          database_list: `${dbs.root}, ${dbs.branch}, ${dbs.leaf}`,
          // A branch replays its provider's ticks one by one (its subscribers may stand at any
          // of them); 100 ticks a second under a steady writer outrun it on a loaded machine.
          ticker_min_interval: 0.05,
        }),
      ]);
      for (const n of names) run.start('londiste', [inis[n], 'worker']);

      let writing = true;
      let written = 0;
      const producer = (async () => {
        while (writing) {
          const i = written++;
          const t = 1 + (i % tableCount);
          await clients.root.query(
            `begin;
           insert into ${tableName(t)} values (${i}, ${i % 7}, 'v${i}', '\\x01', '{"i": ${i}}');
           update ${tableName(t)} set v = v || '+' where id = ${Math.max(0, i - tableCount * 3)};
           delete from ${tableName(t)} where id = ${Math.max(0, i - tableCount * 9)};
           update public.big set k2 = k2 + 1 where id = ${1 + ((i * 7919) % bigRows)};
           commit`,
          );
        }
      })();
      try {
        // The big table first: its copy runs while the others are added and replay.
        for (let t = 0; t <= tableCount; t++) {
          for (const n of names) await ok([inis[n], 'add-table', storedName(t)]);
        }
        for (const n of ['branch', 'leaf'] as const) {
          await until(
            () => `every table ok on ${n}\n${run.log(n)}`,
            async () =>
              (
                await clients[n].query(
                  `select table_name, merge_state from londiste.table_info where local`,
                )
              ).rows,
            (rows) => rows.length === tableCount + 1 && rows.every((r) => r.merge_state === 'ok'),
            deadline,
          );
        }
      } finally {
        writing = false;
        await producer;
      }
      expect(written).toBeGreaterThan(tableCount);
      await clients.root.query(`insert into ${tableName(1)} (id) values (-1)`);
      for (const n of ['branch', 'leaf'] as const) {
        await until(
          () => `the marker on ${n}`,
          async () =>
            (await clients[n].query(`select 1 from ${tableName(1)} where id = -1`)).rowCount,
          (count) => count === 1,
          deadline,
        );
        for (let t = 0; t <= tableCount; t++) {
          expect(await checksum(clients[n], tableName(t)), `${tableName(t)} on ${n}`).toEqual(
            await checksum(clients.root, tableName(t)),
          );
        }
      }
    }, 2_400_000);
  },
);
