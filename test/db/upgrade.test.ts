/**
 * `skytools upgrade`: the report, --apply of an older schema of ours, --adopt of a plain
 * upstream schema, refusals that change nothing, a lock that is not granted in time, and
 * --all over a server's databases. Adoption of Debian's upstream extensions with producers
 * and a consumer running across it is in adopt-extension.test.ts.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { upgradeDatabase } from '../../src/db/upgrade.js';
import { useExtraClusters } from '../harness/clusters.js';
import { useTestDatabase } from '../harness/database.js';
import { useDocWalkthrough } from '../harness/doc-walkthrough.js';
import { runBin } from '../harness/run-bin.js';

const db = useTestDatabase();
const startCluster = useExtraClusters();
let extraCluster: ReturnType<typeof startCluster> | undefined;
/** One extra cluster for the tests that need a whole server to themselves. */
const serverOfOurOwn = () => {
  extraCluster ??= startCluster();
  return extraCluster;
};
const walkthrough = useDocWalkthrough({
  page: 'docs/upgrade.md',
  from: '## Example',
  to: '## What adoption does',
  iniFiles: [],
  tools: ['skytools'],
  blockTimeoutMs: 120_000,
  serverBlock: false,
});

async function freshDatabase(suffix: string, schemas: string[]): Promise<[string, pg.Client]> {
  const database = await db.createDatabase(suffix);
  const client = await db.connect({ database });
  if (schemas.length > 0) await installSchemas(client, schemas);
  return [database, client];
}

function connstr(database: string): string {
  return `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user} dbname=${database}`;
}

/** Make our schema look like an older release of ours. */
async function pretendOlder(client: pg.Client, schema: string): Promise<void> {
  await client.query(
    `create or replace function ${schema}.skytools_version() returns text language sql
       as $$ select 'skytools 0.0.1 schema 0'::text $$`,
  );
}

/** Make our schema look like upstream's plain SQL install: no skytools_version(), its version(). */
async function pretendUpstreamPlain(client: pg.Client, schema: string, version: string) {
  await client.query(`drop function ${schema}.skytools_version()`);
  await client.query(
    `create or replace function ${schema}.version() returns text language sql
       as $$ select '${version}'::text $$`,
  );
}

describe('skytools upgrade', () => {
  it('reports what is installed, and changes nothing without --apply or --adopt', async () => {
    const [database, client] = await freshDatabase('report', ['pgq', 'pgq_ext']);
    await pretendOlder(client, 'pgq_ext');
    const run = await runBin('skytools', ['upgrade', '--db', connstr(database)]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^${database}: pgq: skytools \\S+ schema \\d+, current$`, 'm'),
    );
    expect(run.stdout).toMatch(
      new RegExp(
        `^${database}: pgq_ext: skytools 0\\.0\\.1 schema 0, older than skytools \\S+ schema \\d+ \\(--apply upgrades it\\)$`,
        'm',
      ),
    );
    expect(run.stdout).not.toMatch(/pgq_node|londiste|pgq_coop/);
    const { rows } = await client.query('select pgq_ext.skytools_version() as v');
    expect(rows[0].v).toBe('skytools 0.0.1 schema 0');
  });

  it('--apply upgrades an older schema of ours in place, keeping its data; -n rolls back', async () => {
    const [database, client] = await freshDatabase('apply', ['pgq']);
    await client.query("select pgq.create_queue('kept')");
    await client.query("select pgq.insert_event('kept', 'k', 'v')");
    await pretendOlder(client, 'pgq');
    const dry = await runBin('skytools', ['upgrade', '--db', connstr(database), '--apply', '-n']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /pgq: would upgrade skytools 0\.0\.1 schema 0 -> skytools \S+ schema \d+/,
    );
    expect(dry.stdout).toMatch(/not really: rolled back/);
    expect((await client.query('select pgq.skytools_version() as v')).rows[0].v).toBe(
      'skytools 0.0.1 schema 0',
    );
    const run = await runBin('skytools', ['upgrade', '--db', connstr(database), '--apply']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /pgq: upgraded skytools 0\.0\.1 schema 0 -> skytools \S+ schema \d+/,
    );
    const { rows } = await client.query(
      "select ev_data from pgq.event_template where ev_type = 'k'",
    );
    expect(rows).toEqual([{ ev_data: 'v' }]);
    const again = await upgradeDatabase(client, { apply: true });
    expect(again.changed).toBe(false);
  });

  it('--adopt converts a plain upstream schema, keeping its rows', async () => {
    const [, client] = await freshDatabase('plain', ['pgq_ext']);
    await client.query("select pgq_ext.set_batch_done('c', 7)");
    await pretendUpstreamPlain(client, 'pgq_ext', '3.1');
    const report = await upgradeDatabase(client, { adopt: true });
    const ext = report.schemas.find((s) => s.state.schema === 'pgq_ext');
    expect(ext?.state).toEqual({ schema: 'pgq_ext', kind: 'upstream-plain', version: '3.1' });
    expect(ext?.result?.current).toMatch(/^skytools \S+ schema \d+$/);
    expect((await client.query('select pgq_ext.version() as v')).rows[0].v).toBe('3.3');
    expect((await client.query("select pgq_ext.is_batch_done('c', 7) as done")).rows[0].done).toBe(
      true,
    );
  });

  it('refuses to adopt a schema older than version 3, naming it, and changes nothing', async () => {
    const [database, client] = await freshDatabase('old', ['pgq', 'pgq_ext']);
    await pretendUpstreamPlain(client, 'pgq', '3.5');
    await pretendUpstreamPlain(client, 'pgq_ext', '2.1');
    const run = await runBin('skytools', ['upgrade', '--db', connstr(database), '--adopt']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim()).toBe(
      `skytools upgrade: ${database}: not adopted, nothing changed: pgq_ext 2.1 is older than upstream's version 3, which adoption starts from (upgrade it with upstream's tools first)`,
    );
    const { rows } = await client.query(
      "select to_regprocedure('pgq.skytools_version()') is null as pgq_untouched",
    );
    expect(rows[0].pgq_untouched).toBe(true);
  });

  it('gives up after --lock-timeout when a long transaction holds a lock, changing nothing', async () => {
    const [database, client] = await freshDatabase('locked', ['pgq']);
    await pretendUpstreamPlain(client, 'pgq', '3.5');
    const holder = await db.connect({ database });
    await holder.query('begin');
    await holder.query('lock table pgq.queue in access exclusive mode');
    try {
      const run = await runBin('skytools', [
        'upgrade',
        '--db',
        connstr(database),
        '--adopt',
        '--lock-timeout',
        '0.5',
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toMatch(
        new RegExp(
          `^skytools upgrade: ${database}: a lock was not granted in time \\(.*\\); nothing changed, retry when the long transaction holding it has ended$`,
        ),
      );
    } finally {
      await holder.query('rollback');
    }
    const { rows } = await client.query(
      "select to_regprocedure('pgq.skytools_version()') is null as untouched",
    );
    expect(rows[0].untouched).toBe(true);
  });

  it('--all reads every database of a server that accepts connections', async () => {
    const cluster = await serverOfOurOwn();
    const admin = new pg.Client(cluster.connectionConfig());
    await admin.connect();
    try {
      await admin.query('create database with_pgq');
      await admin.query('create database plain_app');
      await admin.query('create database closed allow_connections false');
    } finally {
      await admin.end();
    }
    const target = new pg.Client(cluster.connectionConfig('with_pgq'));
    await target.connect();
    try {
      await installSchemas(target, ['pgq']);
    } finally {
      await target.end();
    }
    const run = await runBin('skytools', [
      'upgrade',
      '--all',
      '--db',
      cluster.connectionString('postgres'),
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      'plain_app: no pgq, pgq_ext, pgq_coop, pgq_node or londiste schema',
      'postgres: no pgq, pgq_ext, pgq_coop, pgq_node or londiste schema',
      expect.stringMatching(/^with_pgq: pgq: skytools \S+ schema \d+, current$/),
    ]);
  });

  it('names a bad --lock-timeout before connecting', async () => {
    const run = await runBin('skytools', ['upgrade', '--adopt', '--lock-timeout', 'soon']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      'skytools: error: --lock-timeout must be a positive number of seconds, not "soon"',
    );
  });

  it('runs the docs/upgrade.md example as written', async () => {
    const cluster = await serverOfOurOwn();
    const admin = new pg.Client(cluster.connectionConfig());
    await admin.connect();
    try {
      await admin.query('create database shop');
    } finally {
      await admin.end();
    }
    const shop = new pg.Client(cluster.connectionConfig('shop'));
    await shop.connect();
    let upstream: string;
    try {
      const { rowCount } = await shop.query(
        "select 1 from pg_available_extensions where name in ('pgq', 'pgq_node', 'londiste')",
      );
      if (rowCount === 3) {
        await shop.query(
          'create extension pgq; create extension pgq_node; create extension londiste',
        );
        upstream = 'upstream extension 3.5';
      } else {
        // Where Debian's extensions are missing (PostgreSQL 18), upstream's plain SQL stands in.
        await installSchemas(shop, ['pgq']);
        await pretendUpstreamPlain(shop, 'pgq', '3.5');
        upstream = 'upstream schema 3.5 (plain SQL)';
      }
    } finally {
      await shop.end();
    }
    const { outputs } = walkthrough(cluster);
    const out = outputs.join('');
    const release = /adopted \S+ \S+ \S+ (?:\(plain SQL\) )?-> (skytools \S+ schema \d+)/.exec(
      out,
    )?.[1];
    expect(release).toMatch(/^skytools /);
    expect(out).toContain(`shop: pgq: ${upstream} (--adopt converts it to ${release})\n`);
    expect(out).toContain(`shop: pgq: would adopt ${upstream} -> ${release}\n`);
    expect(out).toContain('shop: not really: rolled back\n');
    expect(out).toContain(`shop: pgq: adopted ${upstream} -> ${release}\n`);
    expect(out).toContain(`shop: pgq: ${release}, current\n`);
  });
});
