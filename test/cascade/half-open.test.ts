/**
 * A half-open link between a cascaded worker and its provider: packets dropped, nothing
 * refused. The provider (root) runs in a network namespace reached over a veth pair, and the
 * test takes the namespace's end of the worker's link down. The worker must notice within its
 * keepalive settings (small ones in the provider's location), reconnect once the link is
 * back, and copy every event to the branch exactly once. The test talks to the root over a
 * second veth pair that stays up. Needs root and iproute2 (CI has both); skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { installSchemas } from '../../src/db/installer.js';
import { isRoot } from '../../src/pg/os-user.js';
import { useExtraClusters } from '../harness/clusters.js';
import { useTestDatabase } from '../harness/database.js';
import {
  background,
  createChain,
  memoryLogger,
  queueEvents,
  sharedNode,
  type TestNode,
  tickRoot,
  waitFor,
} from './helpers.js';

function skipReason(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (!isRoot()) return 'needs root to make a network namespace';
  if (spawnSync('ip', ['-V']).status !== 0) return 'needs iproute2 (the ip command)';
  return null;
}
const skip = skipReason();

const test = useTestDatabase();
const startCluster = useExtraClusters();
const queue = 'halfopen';
// Names and subnets of this process only, so that parallel runs never meet.
const tag = String(process.pid % 100_000);
const netns = `skyt-ho-${tag}`;
const subnet = `10.${200 + ((process.pid >> 8) % 50)}.${process.pid % 256}`;
const worker = { host: `skw${tag}`, ns: `skwn${tag}`, hostIp: `${subnet}.1`, nsIp: `${subnet}.2` };
const admin = { host: `ska${tag}`, ns: `skan${tag}`, hostIp: `${subnet}.5`, nsIp: `${subnet}.6` };

function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
}
const inNs = (...args: string[]) => ip('netns', 'exec', netns, 'ip', ...args);

function removeNetwork(): void {
  // Deleting the namespace deletes its ends of the pairs, and with them the host ends.
  spawnSync('ip', ['netns', 'del', netns]);
  for (const link of [worker.host, admin.host]) spawnSync('ip', ['link', 'del', link]);
}

function makeNetwork(): void {
  removeNetwork();
  ip('netns', 'add', netns);
  for (const pair of [worker, admin]) {
    ip('link', 'add', pair.host, 'type', 'veth', 'peer', 'name', pair.ns);
    ip('link', 'set', pair.ns, 'netns', netns);
    ip('addr', 'add', `${pair.hostIp}/30`, 'dev', pair.host);
    ip('link', 'set', pair.host, 'up');
    inNs('addr', 'add', `${pair.nsIp}/30`, 'dev', pair.ns);
    inNs('link', 'set', pair.ns, 'up');
  }
}

let root: TestNode;
let branch: TestNode;
let rootPort: number;

describe.skipIf(skip !== null)(
  `half-open provider link${skip === null ? '' : ` (skipped: ${skip})`}`,
  () => {
    beforeAll(async () => {
      makeNetwork();
      const cluster = await startCluster({
        netns,
        settings: { listen_addresses: `'${worker.nsIp},${admin.nsIp}'` },
      });
      rootPort = cluster.port;
      // initdb trusts only 127.0.0.1: let the test's subnet in too, and reload.
      appendFileSync(
        path.join(cluster.paths.dataDir, 'pg_hba.conf'),
        `host all all ${subnet}.0/24 trust\n`,
      );
      process.kill(cluster.status().pid as number, 'SIGHUP');
      let setup = new pg.Client({ host: admin.nsIp, port: rootPort, user: 'postgres' });
      await waitFor(async () => {
        setup = new pg.Client({ host: admin.nsIp, port: rootPort, user: 'postgres' });
        setup.on('error', () => {});
        return setup.connect().then(
          () => true,
          () => false,
        );
      }, 'the root to accept the subnet');
      await setup.query('create database root');
      await setup.end();
      const config = { host: admin.nsIp, port: rootPort, user: 'postgres', database: 'root' };
      const db = new pg.Client(config);
      db.on('error', () => {});
      await db.connect();
      await installSchemas(db, ['pgq', 'pgq_node']);
      // The worker reaches the root by its location, over the link that will be cut; small
      // keepalive settings bound how long a dead link goes unnoticed (about 1 + 1 x 2 s).
      const location = `host=${worker.nsIp} port=${rootPort} user=postgres dbname=root keepalives_idle=1 keepalives_interval=1 keepalives_count=2 connect_timeout=2`;
      root = { name: 'root', config, location, db };
      branch = await sharedNode(test, 'branch');
      await createChain(queue, [root, branch]);
    }, 180_000);

    afterAll(async () => {
      await root?.db.end().catch(() => {});
      removeNetwork();
    });

    async function produce(from: number, to: number): Promise<void> {
      await root.db.query(
        "select pgq.insert_event($1, 'ev', i::text) from generate_series($2::int, $3::int) i",
        [queue, from, to],
      );
      await tickRoot(root.db, queue);
    }

    const branchData = async () =>
      (await queueEvents(branch.db, queue)).filter((e) => e.ev_type === 'ev').map((e) => e.ev_data);

    const providerPid = async (): Promise<number | null> => {
      const { rows } = await root.db.query(
        "select pid from pg_stat_activity where datname = 'root' and application_name like '%(provider)' and client_addr = $1",
        [worker.hostIp],
      );
      return rows.length === 1 ? rows[0].pid : null;
    };

    it('the worker notices the dead link, reconnects when it is back, and copies every event once', async () => {
      const log = memoryLogger();
      const running = background((signal) =>
        new CascadedWorker({
          connection: branch.config,
          queue,
          logger: log,
          loopDelay: 0.2,
          retryDelay: 0.5,
        }).run({ signal }),
      );
      try {
        await produce(1, 50);
        await waitFor(async () => (await branchData()).length === 50, 'the first events');
        const before = await providerPid();
        expect(before).not.toBeNull();

        inNs('link', 'set', worker.ns, 'down');
        await produce(51, 100);
        await waitFor(
          async () =>
            log.lines.some(
              (l) =>
                l.level === 'error' &&
                (l.obj as { err?: { code?: string } }).err?.code === 'CONNECTION_LOST',
            ),
          'the worker to notice the dead provider link',
        );

        inNs('link', 'set', worker.ns, 'up');
        await produce(101, 120);
        await waitFor(async () => (await branchData()).length >= 120, 'the events after the cut');
        const after = await providerPid();
        expect(after).not.toBeNull();
        expect(after).not.toBe(before);
      } catch (error) {
        // What the worker said is the first thing to read when this fails.
        console.log(
          log.lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.obj)}`).join('\n'),
        );
        throw error;
      } finally {
        inNs('link', 'set', worker.ns, 'up');
        await running.stop();
      }
      const data = await branchData();
      expect(data).toEqual(Array.from({ length: 120 }, (_, i) => String(i + 1)));
      expect(await queueEvents(branch.db, queue)).toEqual(await queueEvents(root.db, queue));
    }, 240_000);
  },
);
