import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { sqlBundle } from '../../src/db/sql-bundle.js';
import { SkytoolsError } from '../../src/errors.js';
import { useTestDatabase } from '../harness/database.js';
import { psqlBinary } from '../harness/psql.js';

const db = useTestDatabase();
const root = fileURLToPath(new URL('../../', import.meta.url));

/** `skytools install ... --db <database>` through the built CLI (npm test builds dist/). */
function skytoolsInstall(database: string, schemasToInstall: string[]) {
  const { host, port, user } = db.cluster;
  return spawnSync(
    process.execPath,
    [
      path.join(root, 'bin/skytools.js'),
      'install',
      '--db',
      `host=${host} port=${port} user=${user} dbname=${database}`,
      ...schemasToInstall,
    ],
    { encoding: 'utf8' },
  );
}

async function withClient<T>(database: string, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client(db.config({ database }));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function schemas(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query(
    "select nspname from pg_namespace where nspname like 'pgq%' order by 1",
  );
  return rows.map((row) => row.nspname);
}

/** `psql -1 -f <bundle>` for each schema in turn, as the docs tell users to. */
function psqlInstall(database: string, schemasToInstall: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'skytools-bundle-'));
  try {
    return schemasToInstall.map((schema) => {
      const file = path.join(dir, `${schema}.sql`);
      writeFileSync(file, sqlBundle(schema));
      const url = db.url.replace(/\/[^/]*$/, `/${encodeURIComponent(database)}`);
      return spawnSync(psqlBinary(), [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-1', '-f', file], {
        encoding: 'utf8',
        // A re-run's "already exists, skipping" notices are expected; errors still show.
        env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('installing pgq_coop', () => {
  it('installs with pgq into an empty database, in dependency order whatever the order asked', async () => {
    const database = await db.createDatabase('fresh');
    await withClient(database, async (client) => {
      const results = await installSchemas(client, ['pgq_coop', 'pgq']);
      expect(results.map((r) => [r.schema, r.previous])).toEqual([
        ['pgq', null],
        ['pgq_coop', null],
      ]);
      const { rows } = await client.query(
        'select pgq_coop.version() as v, pgq_coop.skytools_version() as s',
      );
      expect(rows[0]).toEqual({ v: '3.4', s: results[1]?.current });
      expect(rows[0]?.s).toMatch(/^skytools \S+ schema \d+$/);
    });
  });

  it('a re-run changes nothing: subconsumers and their open batches stay', async () => {
    const database = await db.createDatabase('rerun');
    await withClient(database, async (client) => {
      const [, first] = await installSchemas(client, ['pgq', 'pgq_coop']);
      await client.query("select pgq.create_queue('kept')");
      await client.query("select pgq_coop.register_subconsumer('kept', 'main', 'a')");
      await client.query("select pgq.insert_event('kept', 't', 'd')");
      await client.query("select pgq.force_tick('kept')");
      await client.query("select pgq.ticker('kept')");
      const batch = (await client.query("select pgq_coop.next_batch('kept', 'main', 'a') as b"))
        .rows[0]?.b;
      expect(batch).not.toBeNull();
      const state = 'select * from pgq.subscription order by sub_consumer';
      const before = (await client.query(state)).rows;

      const [again] = await installSchemas(client, ['pgq_coop']);
      expect(again).toMatchObject({ schema: 'pgq_coop', previous: first?.current });
      expect((await client.query(state)).rows).toEqual(before);
      expect(
        (await client.query("select pgq_coop.next_batch('kept', 'main', 'a') as b")).rows[0]?.b,
      ).toBe(batch);
    });
  });

  it('several installers at once on one database', async () => {
    const database = await db.createDatabase('parallel');
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        withClient(database, (client) => installSchemas(client, ['pgq', 'pgq_ext', 'pgq_coop'])),
      ),
    );
    expect(results.filter((r) => r[2]?.previous === null)).toHaveLength(1);
  });

  it('refuses pgq_coop without pgq, naming the fix, and creates nothing', async () => {
    const database = await db.createDatabase('nopgq');
    await withClient(database, async (client) => {
      const error = await installSchemas(client, ['pgq_coop']).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SkytoolsError);
      expect(error).toMatchObject({
        code: 'MISSING_DEPENDENCY',
        message: `schema pgq_coop needs schema pgq, which is not installed in database ${database}; install both: skytools install pgq pgq_coop`,
        context: { schema: 'pgq_coop', requires: 'pgq', database },
      });
      // Also when asked together with a schema that does not need pgq.
      await expect(installSchemas(client, ['pgq_ext', 'pgq_coop'])).rejects.toMatchObject({
        code: 'MISSING_DEPENDENCY',
      });
      expect(await schemas(client)).toEqual([]);
    });
  });

  it('adds pgq_coop to a database that has pgq already', async () => {
    const database = await db.createDatabase('later');
    await withClient(database, async (client) => {
      await installSchemas(client, ['pgq']);
      const [result] = await installSchemas(client, ['pgq_coop']);
      expect(result).toMatchObject({ schema: 'pgq_coop', previous: null });
      expect(await schemas(client)).toEqual(['pgq', 'pgq_coop']);
    });
  });

  it('single-file install with psql -1 -f: works after pgq, refuses (changing nothing) without it', async () => {
    const empty = await db.createDatabase('psql_nopgq');
    const [refused] = psqlInstall(empty, ['pgq_coop']);
    expect(refused?.status).not.toBe(0);
    expect(refused?.stderr).toContain(
      `schema pgq_coop needs schema pgq, which is not installed in database ${empty}`,
    );
    await withClient(empty, async (client) => expect(await schemas(client)).toEqual([]));

    const full = await db.createDatabase('psql_full');
    const runs = psqlInstall(full, ['pgq', 'pgq_coop', 'pgq_coop']);
    for (const run of runs) {
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    }
    await withClient(full, async (client) => {
      const { rows } = await client.query('select pgq_coop.version() as v');
      expect(rows[0]?.v).toBe('3.4');
    });
  });

  it('skytools install: one clear line and exit 1 without pgq; both at once work', async () => {
    const database = await db.createDatabase('cli');
    const refused = skytoolsInstall(database, ['pgq_coop']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `skytools: error: schema pgq_coop needs schema pgq, which is not installed in database ${database}; install both: skytools install pgq pgq_coop\n`,
    );
    const done = skytoolsInstall(database, ['pgq_coop', 'pgq']);
    expect(done.status).toBe(0);
    expect(done.stdout).toMatch(/^pgq: installed skytools .*\npgq_coop: installed skytools .*\n$/);
  });
});
