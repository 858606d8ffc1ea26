/**
 * `setadm CONFIG worker` logs the stats line every other job logs: `{count: N, copied: M,
 * duration: S}` per batch, and `{idle: S}` every keepalive_stats seconds while no batch
 * comes. Every event a branch copies is counted in some line; a leaf's worker copies nothing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  buildTree,
  lastTick,
  nodeDb,
  poll,
  produceAndTick,
  useAdmin,
  type Worker,
} from './helpers.js';

const test = useTestDatabase();
const admin = useAdmin();
const queue = 'statsq';
const batchLine = /\{count: (\d+), copied: (\d+), duration: (\d+(?:\.\d+)?)\}/g;

function lines(worker: Worker, pattern: RegExp): RegExpMatchArray[] {
  return [...worker.output.join('').matchAll(pattern)];
}

async function waitLines(worker: Worker, pattern: RegExp, atLeast: number) {
  await poll(
    async () => lines(worker, pattern).length,
    (n) => n >= atLeast,
    30_000,
    () => `waiting for ${atLeast} x ${pattern} in:\n${worker.output.join('')}`,
  );
}

describe('setadm worker stats line', () => {
  it('logs {count, copied, duration} per batch and {idle} while nothing comes', async () => {
    const root = await nodeDb(test, 'root');
    const branch = await nodeDb(test, 'branch');
    const leaf = await nodeDb(test, 'leaf');
    await buildTree(admin, queue, root, branch, leaf);
    const ini = (node: typeof root, keepalive: string) =>
      admin.writeIni(node.name, {
        node_db: node.connstr,
        queue_name: queue,
        logfile: path.join(admin.dir, `${node.name}.log`),
        loop_delay: '0.1',
        keepalive_stats: keepalive,
      });
    const rootWorker = admin.startWorker([ini(root, '1')]);
    const branchWorker = admin.startWorker([ini(branch, '0')]);
    const leafWorker = admin.startWorker([ini(leaf, '0')]);

    // The root never gets a batch: only idle lines, the seconds since the start growing.
    await waitLines(rootWorker, /\{idle: (\d+)\}/g, 2);
    const idle = lines(rootWorker, /\{idle: (\d+)\}/g).map((m) => Number(m[1]));
    expect(idle[1]).toBeGreaterThan(idle[0] as number);
    expect(lines(rootWorker, batchLine)).toEqual([]);
    // Bound like every job's stats line: queue and job name in front.
    expect(rootWorker.output.join('')).toMatch(/ INFO \[queue=statsq job=root\] \{idle: 1\}\n/);

    const tick = BigInt(await produceAndTick(root, queue, ['a', 'b', 'c']));
    await poll(
      () => lastTick(leaf, queue),
      (t) => t >= tick,
    );
    const copied = await branch.db.query<{ n: string }>(
      `select count(*)::text as n from pgq.event_template`,
    );
    // Each line is written after its batch is finished: the last may still be on its way.
    await poll(
      async () => lines(branchWorker, batchLine).reduce((sum, m) => sum + Number(m[2]), 0),
      (n) => n >= Number(copied.rows[0]?.n),
      30_000,
    );
    const branchLines = lines(branchWorker, batchLine);
    expect(branchLines.reduce((sum, m) => sum + Number(m[2]), 0)).toBe(Number(copied.rows[0]?.n));
    // A branch copies every event it reads, the three data events among them.
    for (const m of branchLines) expect(m[1]).toBe(m[2]);
    expect(branchLines.some((m) => Number(m[2]) >= 3)).toBe(true);

    await waitLines(leafWorker, batchLine, 1);
    for (const m of lines(leafWorker, batchLine)) expect(m[2]).toBe('0');
    // keepalive_stats = 0: no idle lines on the two that had it off.
    expect(lines(leafWorker, /\{idle: /g)).toEqual([]);

    for (const w of [rootWorker, branchWorker, leafWorker]) {
      expect(await admin.stopWorker(w)).toBe(0);
    }
    // The same lines go to the logfile, where monitors read them.
    const log = readFileSync(path.join(admin.dir, 'branch.log'), 'utf8');
    expect([...log.matchAll(batchLine)].length).toBe(branchLines.length);
  });
});
