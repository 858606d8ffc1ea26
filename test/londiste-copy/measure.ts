/**
 * A quick measure of copyTable against native logical replication's initial sync, on two
 * throwaway clusters (fsync on, synchronous_commit off, as the bench runs them):
 *   npx tsx test/londiste-copy/measure.ts [rows] [variant...]
 * Variants: text, binary, keep-ddl, native (default: all). Not part of the suite; the bench's
 * `londiste-copy` workload is the measure of record.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { type CopyTableOptions, copyTable } from '../../src/londiste/copy/copy-table.js';
import type { TableHandler } from '../../src/londiste/handler.js';
import { Cluster } from '../../src/pg/index.js';
import { silentLogger } from '../../src/pgq/logger.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const variants = process.argv.slice(3);
const wanted = (name: string) => variants.length === 0 || variants.includes(name);

const ddl = `
create table public.bench_copy (
  id bigint primary key,
  account int not null,
  amount numeric(12,2),
  note text,
  created timestamptz not null default now(),
  check (account >= 0)
);
create index bench_copy_account on public.bench_copy (account);`;

const handler: TableHandler = {
  needsTable: () => true,
  processEvent: () => {},
  flush: async () => {},
  copyCondition: () => null,
};

async function connect(cluster: Cluster, database = 'postgres') {
  const client = new pg.Client(cluster.connectionConfig(database));
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** CPU seconds the cluster's processes used so far (live ones and those it reaped). */
function clusterCpu(postmaster: number): number {
  const ticks = 100;
  const stat = (pid: number | string) => {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(fields[1]), cpu: fields.slice(11, 15).map(Number) as number[] };
    } catch {
      return null;
    }
  };
  let total = 0;
  const own = stat(postmaster);
  if (own) total += own.cpu.reduce((a, b) => a + b, 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = stat(entry);
    if (child?.ppid === postmaster) total += child.cpu.reduce((a, b) => a + b, 0);
  }
  return total / ticks;
}

async function main() {
  const settings = { synchronous_commit: 'off', wal_level: 'logical', max_wal_size: "'2GB'" };
  const [sourceCluster, destCluster] = await Promise.all([
    Cluster.temporary({ fsync: true, settings }),
    Cluster.temporary({ fsync: true, settings }),
  ]);
  try {
    const source = await connect(sourceCluster);
    const dest = await connect(destCluster);
    await source.query(ddl);
    await dest.query(ddl);
    await dest.query('create schema londiste');
    await dest.query(`create function londiste.set_session_replication_role(val text, is_local boolean)
      returns void language sql as $$ select set_config('session_replication_role', val, is_local) $$`);
    await source.query(`insert into public.bench_copy (id, account, amount, note)
      select i, i % 1000, (i % 100000) / 100.0, md5(i::text) from generate_series(1, ${rows}) i`);
    await source.query('vacuum analyze public.bench_copy');
    console.log(`${rows} rows, PostgreSQL ${sourceCluster.pgVersion}`);

    const pids = [sourceCluster.status().pid ?? 0, destCluster.status().pid ?? 0];
    const run = async (name: string, extra: Partial<CopyTableOptions>) => {
      const cpuBefore = pids.map(clusterCpu);
      const clientBefore = process.cpuUsage();
      const started = performance.now();
      const result = await copyTable({
        source,
        dest,
        table: 'public.bench_copy',
        destTable: 'public.bench_copy',
        handler,
        skipTruncate: false,
        keepDdl: false,
        log: silentLogger,
        beforeCommit: async () => {},
        ...extra,
      });
      const seconds = (performance.now() - started) / 1000;
      const cpu = pids.map((pid, i) => clusterCpu(pid) - (cpuBefore[i] ?? 0));
      const client = process.cpuUsage(clientBefore);
      console.log(
        `${name}: cpu source ${cpu[0]?.toFixed(2)} s, dest ${cpu[1]?.toFixed(2)} s, client ${((client.user + client.system) / 1e6).toFixed(2)} s`,
      );
      console.log(
        `${name}: ${result.rows} rows in ${seconds.toFixed(2)} s = ${Math.round(result.rows / seconds)} rows/s (${result.format}, ${(result.bytes / 1e6).toFixed(0)} MB)`,
      );
      return seconds;
    };
    const results: Record<string, number> = {};
    if (wanted('text')) results.text = await run('text', { format: 'text' });
    if (wanted('binary')) results.binary = await run('binary', {});
    if (wanted('keep-ddl'))
      results.keepDdl = await run('keep-ddl (indexes kept)', { keepDdl: true });
    if (wanted('native')) {
      await dest.query('truncate public.bench_copy');
      await source.query('create publication bench_pub for table public.bench_copy');
      const started = performance.now();
      await dest.query(
        `create subscription bench_sub connection 'host=${sourceCluster.host} port=${sourceCluster.port} user=postgres dbname=postgres' publication bench_pub`,
      );
      for (;;) {
        const { rows: states } = await dest.query(
          "select count(*)::int as n from pg_subscription_rel where srsubstate <> 'r'",
        );
        if (states[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const seconds = (performance.now() - started) / 1000;
      results.native = seconds;
      console.log(
        `native initial sync: ${rows} rows in ${seconds.toFixed(2)} s = ${Math.round(rows / seconds)} rows/s`,
      );
      await dest.query('drop subscription bench_sub');
    }
    if (results.native !== undefined) {
      for (const [name, seconds] of Object.entries(results)) {
        if (name !== 'native')
          console.log(`ratio ${name}: ${(results.native / seconds).toFixed(2)}x`);
      }
    }
    await source.end();
    await dest.end();
  } finally {
    await Promise.all([
      sourceCluster.stop({ mode: 'immediate' }),
      destCluster.stop({ mode: 'immediate' }),
    ]);
  }
}

await main();
