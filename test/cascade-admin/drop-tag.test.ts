/**
 * tag-dead and drop-node, the dry run of every destructive command, and bad input (unknown
 * node, provider not in the set, a member that does not answer, the admin pidfile).
 */

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { buildTree, cli, type NodeDb, nodeDb, snapshot, useAdmin } from './helpers.js';

const test = useTestDatabase();
const admin = useAdmin();
const queue = 'q.drop';

describe('setadm tag-dead, drop-node, dry runs and bad input', () => {
  let root: NodeDb;
  let branch: NodeDb;
  let leaf: NodeDb;
  let all: NodeDb[];

  it('the dry run of each destructive command prints its calls and changes nothing', async () => {
    root = await nodeDb(test, 'root');
    branch = await nodeDb(test, 'branch');
    leaf = await nodeDb(test, 'leaf');
    all = [root, branch, leaf];
    await buildTree(admin, queue, root, branch, leaf);
    const before = await snapshot(all);
    const commands: [NodeDb, string[], string][] = [
      [root, ['tag-dead', 'leaf'], '[dry-run] on root: select * from pgq_node.register_location'],
      [root, ['drop-node', 'leaf'], '[dry-run] on leaf: select * from pgq_node.drop_node'],
      [
        leaf,
        ['change-provider', '--provider', 'root'],
        '[dry-run] on root: select * from pgq_node.register_subscriber',
      ],
      [
        leaf,
        ['pause'],
        '[dry-run] on leaf: select * from pgq_node.set_consumer_paused($1, $2, $3) ("q.drop", "leaf_worker", true)',
      ],
      [
        root,
        ['resume', '--node', 'branch'],
        '[dry-run] on branch: select * from pgq_node.set_consumer_paused',
      ],
    ];
    for (const [node, args, expected] of commands) {
      const result = await admin.run([...cli(node, queue), ...args, '--dry-run']);
      expect(result.stdout, args.join(' ')).toContain(expected);
      expect(result.code).toBe(0);
    }
    expect(await snapshot(all)).toEqual(before);
  });

  it('unknown nodes and providers outside the set are refused by name, nothing changed', async () => {
    const before = await snapshot(all);
    const cases: [NodeDb, string[], string][] = [
      [
        root,
        ['tag-dead', 'nope'],
        `setadm: error: node nope is not a member of queue ${queue} (members: branch, leaf, root)`,
      ],
      [root, ['drop-node', 'nope'], `setadm: error: node nope is not a member of queue ${queue}`],
      [
        root,
        ['pause', '--node', 'nope'],
        `setadm: error: node nope is not a member of queue ${queue}`,
      ],
      [
        leaf,
        ['change-provider', '--provider', 'nope'],
        'setadm: error: provider nope is not a member of queue q.drop (members: branch, leaf, root)',
      ],
      [
        leaf,
        ['change-provider', '--provider', 'leaf'],
        'setadm: error: node leaf cannot be its own provider',
      ],
      [
        root,
        ['change-provider', '--provider', 'branch'],
        'setadm: error: node root is the root of queue q.drop; it has no provider to change (use takeover)',
      ],
      [
        root,
        ['change-provider', '--node', 'branch', '--provider', 'leaf'],
        'setadm: error: node leaf is a leaf of queue q.drop',
      ],
      [root, ['pause', '--consumer', 'ghost'], 'setadm: error: Unknown consumer: ghost'],
      [
        root,
        ['tag-dead', 'root'],
        'setadm: error: node root is the local node; run tag-dead from another member',
      ],
      [
        root,
        ['drop-node', 'branch'],
        'setadm: error: node branch still has subscribers: leaf; move them to another provider first (change-provider)',
      ],
      [root, ['drop-node', 'root'], 'setadm: error: node root still has subscribers: branch'],
      [branch, ['takeover', 'nope'], 'setadm: error: '],
    ];
    for (const [node, args, message] of cases) {
      const result = await admin.run([...cli(node, queue), ...args]);
      expect(result.stderr, args.join(' ')).toContain(message);
      expect(result.code).toBe(1);
    }
    const otherQueue = await admin.run([...cli(root, 'no_such_queue'), 'status']);
    expect(otherQueue.stderr).toContain('Unknown queue: no_such_queue');
    expect(otherQueue.code).toBe(1);
    expect(await snapshot(all)).toEqual(before);
  });

  it('status shows a member that does not answer, and one tagged dead, without failing', async () => {
    await root.db.query(
      `select * from pgq_node.register_location($1, 'ghost', 'host=127.0.0.1 port=1 dbname=x', false)`,
      [queue],
    );
    const status = await admin.run([...cli(root, queue), 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^ghost \(unreachable: node ghost of queue q\.drop does not answer: cannot connect to .*\)$/m,
    );
    expect(status.stdout).toMatch(/^root \(root\)$/m);
    const tag = await admin.run([...cli(root, queue), 'tag-dead', 'ghost']);
    expect(tag.code).toBe(0);
    expect(tag.stdout).toBe('node ghost tagged dead\n');
    const after = await admin.run([...cli(root, queue), 'status', '--dead', 'leaf']);
    expect(after.stdout).toMatch(/^ghost \(dead\)$/m);
    expect(after.stdout).toMatch(/^ {3}\+--leaf \(dead\)$/m);
    const members = await admin.run([...cli(root, queue), 'members']);
    expect(members.stdout).toMatch(/^ghost +true +host=127\.0\.0\.1 port=1 dbname=x$/m);
  });

  it('tag-dead marks the node dead on every member that answers', async () => {
    const result = await admin.run([...cli(branch, queue), 'tag-dead', 'leaf']);
    expect(result.code).toBe(0);
    for (const n of [root, branch]) {
      const { rows } = await n.db.query(
        `select dead from pgq_node.node_location where queue_name = $1 and node_name = 'leaf'`,
        [queue],
      );
      expect(rows, n.name).toEqual([{ dead: true }]);
    }
    // The tagged node itself is not told.
    const { rows } = await leaf.db.query(
      `select dead from pgq_node.node_location where queue_name = $1 and node_name = 'leaf'`,
      [queue],
    );
    expect(rows).toEqual([{ dead: false }]);
  });

  it('drop-node removes a node from itself, its provider, the root and every member', async () => {
    const result = await admin.run([...cli(root, queue), 'drop-node', 'leaf']);
    expect(result.stdout).toBe('node leaf dropped from queue q.drop\n');
    expect(result.code).toBe(0);
    // Tagged dead above: not contacted, so only the others forget it.
    expect(result.stderr).toContain(
      'WARNING: node leaf is dead or does not answer; dropping it from the others only',
    );
    expect((await leaf.db.query('select node_name from pgq_node.node_info')).rows).toEqual([
      { node_name: 'leaf' },
    ]);
    for (const n of [root, branch]) {
      const locations = await n.db.query(
        'select node_name from pgq_node.node_location where queue_name = $1 order by 1',
        [queue],
      );
      expect(
        locations.rows.map((r) => r.node_name),
        n.name,
      ).not.toContain('leaf');
    }
    expect(
      (await branch.db.query('select * from pgq_node.get_subscriber_info($1)', [queue])).rows,
    ).toEqual([]);
    // With the leaf gone, the branch may go too.
    const branchDrop = await admin.run([...cli(root, queue), 'drop-node', 'branch']);
    expect(branchDrop.code).toBe(0);
    expect((await branch.db.query('select * from pgq_node.node_info')).rows).toEqual([]);
    expect((await branch.db.query('select * from pgq_node.node_location')).rows).toEqual([]);
    expect(
      (await root.db.query('select * from pgq_node.get_subscriber_info($1)', [queue])).rows,
    ).toEqual([]);
  });

  it('admin commands take <pidfile>.admin; status does not; skytools set is the same tool', async () => {
    const pidfile = path.join(admin.dir, 'root.pid');
    const ini = admin.writeIni('rootjob', { node_db: root.connstr, queue_name: queue, pidfile });
    // A live process holds the admin pidfile.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      writeFileSync(`${pidfile}.admin`, `${holder.pid}\n`);
      const refused = await admin.run([ini, 'tag-dead', 'ghost']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('Pidfile exists, another process running?');
      const status = await admin.run([ini, 'members']);
      expect(status.code).toBe(0);
    } finally {
      holder.kill('SIGKILL');
    }
    const skytools = path.resolve(import.meta.dirname, '../../bin/skytools.js');
    const out = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [skytools, 'set', ini, 'node-info']);
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
      });
      child.on('close', () => resolve(text));
    });
    expect(out).toContain('Node: root\nType: root\n');
  });
});
