/**
 * The commands of docs/cascade-takeover.md run as written, through the real bin: the page's
 * `sh` blocks (switchover, failover, resurrect) in that order on a tree node1 -> node2 ->
 * node3, with only the databases' connect strings and the dump path put in. node1 has a
 * cluster of its own, so the failover can stop its server and the resurrect start it again.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildTree,
  type NodeDb,
  nodeDb,
  produceAndTick,
  useAdmin,
  type Worker,
} from '../cascade-admin/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { clusterNode, produceThrough, startCliWorkers, useRestartableClusters } from './helpers.js';

const test = useTestDatabase();
const admin = useAdmin();
const startCluster = useRestartableClusters();
const queue = 'events';
const page = readFileSync(
  path.resolve(import.meta.dirname, '../../docs/cascade-takeover.md'),
  'utf8',
);

/** The page's `sh` blocks, each one command line. */
function commands(): string[] {
  return [...page.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').trim());
}

/** Split a command line as a shell would for these (double quotes only). */
function argv(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

describe('docs/cascade-takeover.md', () => {
  it('runs the switchover, failover and resurrect commands as written', async () => {
    const blocks = commands();
    expect(blocks).toHaveLength(3);
    const cluster = await startCluster();
    const first = await clusterNode(cluster, 'node1');
    const node1: NodeDb = {
      name: 'node1',
      database: 'node1',
      connstr: first.location,
      db: first.db,
    };
    const node2 = await nodeDb(test, 'node2');
    const node3 = await nodeDb(test, 'node3');
    const nodes = { node1, node2, node3 };
    await buildTree(admin, queue, node1, node2, node3);
    const workers = startCliWorkers(admin, queue, [node1, node2, node3]);
    const dumpFile = path.join(admin.dir, 'node1-lost.json');
    const run = async (line: string) => {
      const args = argv(line)
        .slice(1)
        .map((arg) => {
          const db = /^dbname=(node\d)$/.exec(arg);
          if (db) return nodes[db[1] as keyof typeof nodes].connstr;
          return arg === '/var/tmp/node1-lost.json' ? dumpFile : arg;
        });
      const result = await admin.run(args);
      expect(result.stderr).not.toMatch(/error:/);
      expect(result.code).toBe(0);
      return result;
    };
    await produceThrough(node1, node3, queue, ['a']);

    // Switchover, then back (the same command the other way round).
    const [switchover, failover, resurrect] = blocks as [string, string, string];
    await run(switchover);
    expect(await nodeType(node2)).toBe('root');
    await run(switchover.replace('dbname=node2', 'dbname=node1').replace(/node1$/, 'node2'));
    expect(await nodeType(node1)).toBe('root');

    // Failover from a stopped root; the old root's worker goes down with its server.
    await produceAndTick(node1, queue, ['b']);
    await cluster.stop({ mode: 'immediate' });
    await admin.stopWorker(workers[0] as Worker);
    const failed = await run(failover);
    expect(failed.stderr).toMatch(/failover node1 -> node2: done/);
    expect(await nodeType(node2)).toBe('root');

    await cluster.start();
    const resurrected = await run(resurrect);
    expect(resurrected.stderr).toMatch(/its worker is paused/);
    expect(existsSync(dumpFile)).toBe(true);
  });
});

async function nodeType(node: NodeDb): Promise<string> {
  const { rows } = await node.db.query('select node_type from pgq_node.get_node_info($1)', [queue]);
  return rows[0]?.node_type;
}
