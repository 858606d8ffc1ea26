/**
 * Root and branch on two servers of their own: the public-location check tells apart two
 * databases of the same name (and, in fresh clusters, the same oid) on different servers,
 * events flow across, and a root whose server is down shows as unreachable in status.
 */

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { useExtraClusters } from '../harness/clusters.js';
import { lastTick, type NodeDb, poll, produceAndTick, useAdmin } from './helpers.js';

const startCluster = useExtraClusters();
const admin = useAdmin();
const queue = 'shop_events';
const clients: pg.Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
});

async function shopOn(
  cluster: Awaited<ReturnType<typeof startCluster>>,
  name: string,
): Promise<NodeDb> {
  const admin = new pg.Client(cluster.connectionConfig('postgres'));
  await admin.connect();
  await admin.query('create database shop');
  await admin.end();
  const db = new pg.Client(cluster.connectionConfig('shop'));
  db.on('error', () => {});
  await db.connect();
  clients.push(db);
  return {
    name,
    database: 'shop',
    connstr: `host=${cluster.host} port=${cluster.port} user=${cluster.user} dbname=shop`,
    db,
  };
}

describe('setadm across two servers', () => {
  it('checks locations by server, moves events across, survives a root that is down', async () => {
    const [a, b] = await Promise.all([startCluster(), startCluster()]);
    const root = await shopOn(a, 'root');
    const branch = await shopOn(b, 'branch');
    const rootIni = admin.writeIni('root', { node_db: root.connstr, queue_name: queue });
    const branchIni = admin.writeIni('branch', {
      node_db: branch.connstr,
      queue_name: queue,
      loop_delay: '0.2',
    });
    expect((await admin.run([rootIni, 'create-root', 'root', root.connstr])).code).toBe(0);

    // The root's location for the branch: same database name (and oid) but another server.
    const wrong = await admin.run([
      branchIni,
      'create-branch',
      'branch',
      root.connstr,
      '--provider',
      root.connstr,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      'setadm: error: public connect string of node branch reaches another database (shop) than the local one (shop); fix it or use --nocheck',
    );
    expect(
      (await branch.db.query(`select to_regclass('pgq_node.node_info') as t`)).rows[0].t,
    ).toBeNull();

    const ok = await admin.run([
      branchIni,
      'create-branch',
      'branch',
      branch.connstr,
      '--provider',
      root.connstr,
    ]);
    expect(ok.code).toBe(0);
    const worker = admin.startWorker([branchIni]);
    const tick = BigInt(await produceAndTick(root, queue, ['one', 'two']));
    await poll(
      () => lastTick(branch, queue),
      (t) => t >= tick,
    );
    const copied = await branch.db.query(
      `select ev_data from pgq.event_template where ev_type = 'data' order by ev_id`,
    );
    expect(copied.rows.map((r) => r.ev_data)).toEqual(['one', 'two']);
    expect((await admin.run([branchIni, 'wait-root', '--timeout', '20'])).code).toBe(0);

    await a.stop({ mode: 'fast' });
    const status = await admin.run([branchIni, 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^root \(unreachable: node root of queue shop_events does not answer: /m,
    );
    expect(status.stdout).toMatch(/^\+--branch \(branch\)$/m);
    expect(await admin.stopWorker(worker)).toBe(0);
  });
});
