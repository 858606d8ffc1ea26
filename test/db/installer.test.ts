import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { sqlBundle } from '../../src/db/sql-bundle.js';
import { SkytoolsError } from '../../src/errors.js';
import { useExtraClusters } from '../harness/clusters.js';
import { useTestDatabase } from '../harness/database.js';
import { type BinResult, runBin } from '../harness/run-bin.js';

const db = useTestDatabase();
const startCluster = useExtraClusters();

async function withClient<T>(
  config: pg.ClientConfig,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function schemaExists(database: string, schema = 'pgq'): Promise<boolean> {
  return withClient(db.config({ database }), async (client) => {
    const { rows } = await client.query(
      'select count(*)::int as n from pg_namespace where nspname = $1',
      [schema],
    );
    return rows[0].n === 1;
  });
}

async function expectSkytoolsError(
  promise: Promise<unknown>,
  code: string,
  message: RegExp,
): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SkytoolsError);
  expect((error as SkytoolsError).code).toBe(code);
  expect((error as SkytoolsError).message).toMatch(message);
}

function skytools(args: string[], env: NodeJS.ProcessEnv = {}): Promise<BinResult> {
  return runBin('skytools', args, { env });
}

describe('installSchemas', () => {
  it('installs pgq into an empty database, and a re-run keeps queues, consumers and events', async () => {
    const database = await db.createDatabase('fresh');
    await withClient(db.config({ database }), async (client) => {
      const [first] = await installSchemas(client, ['pgq']);
      expect(first).toMatchObject({ schema: 'pgq', previous: null });
      expect(first?.current).toMatch(/^skytools /);
      const version = await client.query('select pgq.version() as v');
      expect(version.rows[0].v).toBe('3.5');

      await client.query("select pgq.create_queue('kept')");
      await client.query("select pgq.register_consumer('kept', 'reader')");
      await client.query("select pgq.insert_event('kept', 'greeting', 'hello')");

      const [again] = await installSchemas(client, ['pgq']);
      expect(again).toMatchObject({ previous: first?.current, current: first?.current });
      const state = await client.query(
        `select (select count(*)::int from pgq.queue where queue_name = 'kept') as queues,
                (select count(*)::int from pgq.get_consumer_info('kept')) as consumers,
                (select count(*)::int from pgq.event_template where ev_data = 'hello') as events`,
      );
      expect(state.rows[0]).toEqual({ queues: 1, consumers: 1, events: 1 });
    });
  });

  it('survives 20 installers at once on one database', async () => {
    const database = await db.createDatabase('parallel');
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        withClient(db.config({ database }), (client) => installSchemas(client, ['pgq'])),
      ),
    );
    const fresh = results.filter(([result]) => result?.previous === null);
    expect(fresh).toHaveLength(1);
    expect(await schemaExists(database)).toBe(true);
  });

  it('refuses unknown schemas before touching anything', async () => {
    await withClient(db.config(), (client) =>
      expectSkytoolsError(
        installSchemas(client, ['pgq', 'pgq_nope']),
        'UNKNOWN_SCHEMA',
        /^unknown schema "pgq_nope"; known: pgq, /,
      ),
    );
  });

  it('refuses a schema pgq that skytools did not install, and leaves it alone', async () => {
    const database = await db.createDatabase('foreign');
    await withClient(db.config({ database }), async (client) => {
      await client.query('create schema pgq; create table pgq.mine (id int)');
      await expectSkytoolsError(
        installSchemas(client, ['pgq']),
        'FOREIGN_SCHEMA',
        /^schema pgq already exists in database .* but was not installed by skytools; refusing to change it$/,
      );
      const { rows } = await client.query(
        "select count(*)::int as n from pg_tables where schemaname = 'pgq'",
      );
      expect(rows[0].n).toBe(1);
    });
  });

  it('tells a role without CREATE on the database what to grant, and changes nothing', async () => {
    const database = await db.createDatabase('noprivs');
    const role = `${database}_weak`.slice(0, 63);
    await db.query(`create role "${role}" login`);
    try {
      await withClient(db.config({ database, user: role }), (client) =>
        expectSkytoolsError(
          installSchemas(client, ['pgq']),
          'INSUFFICIENT_PRIVILEGE',
          new RegExp(
            `may not create schemas in database ${database}; run as the database owner, or: GRANT CREATE ON DATABASE`,
          ),
        ),
      );
      expect(await schemaExists(database)).toBe(false);
    } finally {
      await db.query(`drop role "${role}"`);
    }
  });

  it('works for a database owner without superuser or CREATEROLE, printing what an admin must run', async () => {
    // A cluster of its own: the pgq roles must not exist yet, and roles are cluster-wide.
    const cluster = await startCluster();
    await withClient(cluster.connectionConfig(), async (admin) => {
      await admin.query('create role app_owner login nosuperuser nocreaterole');
      await admin.query('create database app owner app_owner');
    });
    await withClient({ ...cluster.connectionConfig('app'), user: 'app_owner' }, async (client) => {
      const [result] = await installSchemas(client, ['pgq']);
      expect(result?.notices.join('\n')).toMatch(/create role pgq_reader/i);
      await client.query("select pgq.create_queue('owned')");
      await client.query("select pgq.insert_event('owned', 't', 'd')");
      const { rows } = await client.query(
        "select count(*)::int as n from pgq.event_template where ev_type = 't'",
      );
      expect(rows[0].n).toBe(1);
    });
  });

  it('refuses to install over the upstream C extension (PostgreSQL 15, where Debian ships it)', async () => {
    const database = await db.createDatabase('upstream');
    await withClient(db.config({ database }), async (client) => {
      const available = await client.query(
        "select 1 from pg_available_extensions where name = 'pgq'",
      );
      if (available.rowCount === 0) {
        // Only Debian's PostgreSQL 15 packages have it; .ci/run installs them, so 15 must have it.
        expect(db.cluster.pgMajor).not.toBe(15);
        return;
      }
      await client.query('create extension pgq');
      await expectSkytoolsError(
        installSchemas(client, ['pgq']),
        'UPSTREAM_EXTENSION',
        /^database .* has the upstream extension pgq 3\.\S+ installed; skytools will not install over it/,
      );
      await expect(client.query(`begin;\n${sqlBundle('pgq')}\ncommit;`)).rejects.toThrow(
        /the upstream extension pgq is installed in this database; skytools will not install over it/,
      );
      await client.query('rollback');
      const { rows } = await client.query(
        "select to_regprocedure('pgq.skytools_version()') as ours",
      );
      expect(rows[0].ours).toBeNull();
    });
  });

  it('dist bundle installs with one transaction, as psql -1 -f does', async () => {
    const database = await db.createDatabase('bundle');
    await withClient(db.config({ database }), async (client) => {
      await client.query(`begin;\n${sqlBundle('pgq')}\ncommit;`);
      const { rows } = await client.query('select pgq.version() as v');
      expect(rows[0].v).toBe('3.5');
    });
  });
});

describe('skytools install', () => {
  it('installs with --db as a key=value string and says what it did', async () => {
    const database = await db.createDatabase('cli');
    const { host, port, user } = db.cluster;
    const args = [
      'install',
      '--db',
      `host=${host} port=${port} user=${user} dbname=${database}`,
      'pgq',
    ];
    const first = await skytools(args);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^pgq: installed skytools /);
    const second = await skytools(args);
    expect(second.stdout).toMatch(/^pgq: already at skytools .*, refreshed/);
  });

  it('uses the libpq environment when --db is absent', async () => {
    const database = await db.createDatabase('env');
    const { host, port, user } = db.cluster;
    const run = await skytools(['install', 'pgq'], {
      PGHOST: host,
      PGPORT: String(port),
      PGUSER: user,
      PGDATABASE: database,
    });
    expect(run.code).toBe(0);
    expect(await schemaExists(database)).toBe(true);
  });

  it('gives one clear line for a server that does not answer', async () => {
    const run = await skytools([
      'install',
      '--db',
      'host=127.0.0.1 port=1 user=x password=secret dbname=y',
      'pgq',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^skytools: error: cannot connect to x@127\.0\.0\.1:1\/y: /);
    expect(run.stderr).not.toContain('secret');
  });
});
