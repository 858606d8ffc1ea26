import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { cli, type NodeDb, nodeDb, snapshot, useAdmin } from './helpers.js';

const test = useTestDatabase();
const admin = useAdmin();
const queue = 'Orders "q"';

describe('setadm create-root / create-branch / create-leaf', () => {
  let root: NodeDb;
  let branch: NodeDb;
  let leaf: NodeDb;

  it('dry runs of create-* print the plan and change nothing', async () => {
    root = await nodeDb(test, 'root', { empty: true });
    branch = await nodeDb(test, 'branch');
    leaf = await nodeDb(test, 'leaf');
    const before = await snapshot([root]);
    const dry = await admin.run([
      ...cli(root, queue),
      'create-root',
      'root',
      root.connstr,
      '--dry-run',
    ]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('[dry-run] on root: install schemas pgq, pgq_node');
    expect(dry.stdout).toContain('pgq_node.create_node');
    // A location without host= works only through each machine's own socket: a warning.
    const socket = await admin.run([
      ...cli(root, queue),
      'create-root',
      'root',
      `dbname=${root.database}`,
      '--nocheck',
      '--dry-run',
    ]);
    expect(socket.code).toBe(0);
    expect(socket.stderr).toContain(
      'WARNING: public connect string of node root has no host=; other nodes reach it only through their own local socket',
    );
    expect(await snapshot([root])).toEqual(before);
  });

  it('create-root installs the schemas into an empty database and creates the root', async () => {
    const ini = admin.writeIni('root', {
      node_db: root.connstr,
      queue_name: queue,
      pidfile: `${admin.dir}/root.pid`,
    });
    const result = await admin.run([ini, 'create-root', 'root', root.connstr]);
    expect(result.stderr).toContain('root: installed schema pgq_node');
    expect(result.stdout).toBe(`node root created as root of queue ${queue}\n`);
    expect(result.code).toBe(0);
    const { rows } = await root.db.query('select node_type, worker_name from pgq_node.node_info');
    // The worker is named after the job (the INI file's name), as upstream.
    expect(rows).toEqual([{ node_type: 'root', worker_name: 'root' }]);
  });

  it('create-root twice is refused, naming the node, and changes nothing', async () => {
    const before = await snapshot([root]);
    const result = await admin.run([...cli(root, queue), 'create-root', 'other', root.connstr]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `setadm: error: Node already initialized: the local database is node root (root) of queue ${queue}\n`,
    );
    expect(await snapshot([root])).toEqual(before);
  });

  it('dry run of create-branch changes nothing on the branch or the provider', async () => {
    const before = await snapshot([root, branch]);
    const result = await admin.run([
      ...cli(branch, queue),
      'create-branch',
      'branch',
      branch.connstr,
      '--provider',
      root.connstr,
      '--dry-run',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '[dry-run] on root: select * from pgq_node.register_subscriber',
    );
    expect(result.stdout).toContain('[dry-run] on branch: select * from pgq_node.create_node');
    expect(await snapshot([root, branch])).toEqual(before);
  });

  it('create-branch and create-leaf subscribe below their providers', async () => {
    const b = await admin.run([
      ...cli(branch, queue),
      'create-branch',
      'branch',
      branch.connstr,
      '--provider',
      root.connstr,
    ]);
    expect(b.stderr).toContain('root: Subscriber registered: branch');
    expect(b.code).toBe(0);
    const l = await admin.run([
      ...cli(leaf, queue),
      'create-leaf',
      'leaf',
      leaf.connstr,
      '--provider',
      branch.connstr,
      '--worker',
      'leaf_w',
    ]);
    expect(l.code).toBe(0);
    expect(l.stdout).toBe(`node leaf created as leaf of queue ${queue}\n`);
    const subs = await branch.db.query('select * from pgq_node.get_subscriber_info($1)', [queue]);
    expect(subs.rows.map((r) => [r.node_name, r.worker_name])).toEqual([['leaf', 'leaf_w']]);
    const onRoot = await root.db.query('select * from pgq_node.get_subscriber_info($1)', [queue]);
    expect(onRoot.rows.map((r) => [r.node_name, r.worker_name])).toEqual([
      ['branch', 'branch_worker'],
    ]);
    // The leaf knows every member; the root learnt the leaf's location directly.
    for (const n of [root, leaf]) {
      const { rows } = await n.db.query(
        'select node_name from pgq_node.get_queue_locations($1) order by 1',
        [queue],
      );
      expect(rows.map((r) => r.node_name)).toEqual(['branch', 'leaf', 'root']);
    }
  });

  it('status shows the tree, members the locations, node-info and node-status the node', async () => {
    const status = await admin.run([...cli(leaf, queue), 'status']);
    expect(status.code).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toBe(`Queue: ${queue}   Local node: leaf`);
    expect(lines.slice(2, 7).map((l) => l.replace(/Lag: [^,]+, /, ''))).toEqual([
      'root (root)',
      '|  Tick: 1, NOT UPTODATE',
      '+--branch (branch)',
      '   |  Tick: 1, NOT UPTODATE',
      '   +--leaf (leaf)',
    ]);
    const compact = await admin.run([...cli(root, queue), 'status', '--compact']);
    expect(compact.stdout).toMatch(
      /^ {3}\+--leaf \(leaf\) {2}(Lag: [^,]+, )?Tick: 1, NOT UPTODATE$/m,
    );

    const members = await admin.run([...cli(branch, queue), 'members']);
    expect(members.code).toBe(0);
    expect(members.stdout.split('\n').slice(2, 5)).toEqual(
      ['branch', 'leaf', 'root'].map(
        (n) =>
          `${n.padEnd(15)}  ${'false'.padEnd(15)}  ${({ root, branch, leaf } as Record<string, NodeDb>)[n]?.connstr}`,
      ),
    );

    const info = await admin.run([...cli(leaf, queue), 'node-info']);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('Node: leaf\nType: leaf\nStatus: NON-UP-TO-DATE\n');
    expect(info.stdout).toContain('Provider: branch\n');
    expect(info.stdout).toContain('Worker: leaf_w\n');

    const nodeStatus = await admin.run([...cli(branch, queue), 'node-status']);
    expect(nodeStatus.stdout).toContain(`Queue: ${queue}   Node: branch (branch)\n`);
    expect(nodeStatus.stdout).toContain('Provider: root\nSubscribers: leaf\n');
  });

  it('a --sync-watermark branch shows its attribute, a consumer error its ERR line', async () => {
    const branch2 = await nodeDb(test, 'branch2');
    const result = await admin.run([
      ...cli(branch2, queue),
      'create-branch',
      'branch2',
      branch2.connstr,
      '--provider',
      root.connstr,
      '--sync-watermark',
      'branch,branch2',
    ]);
    expect(result.code).toBe(0);
    const attrs = await branch2.db.query('select node_attrs from pgq_node.node_info');
    expect(new URLSearchParams(attrs.rows[0].node_attrs).get('sync_watermark')).toBe(
      'branch,branch2',
    );
    await leaf.db.query(
      `select * from pgq_node.set_consumer_error($1, 'leaf_w', 'provider gone\nsecond line')`,
      [queue],
    );
    const status = await admin.run([...cli(root, queue), 'status']);
    expect(status.stdout).toMatch(
      /^\+--branch2 \(branch\)\n {6}Lag: .*\n {6}Attr: sync_watermark=branch,branch2$/m,
    );
    expect(status.stdout).toMatch(/^\| {8}ERR: leaf_w: provider gone$/m);
  });

  it('create-leaf --merge makes a merge-leaf into a local root queue', async () => {
    const part = await nodeDb(test, 'part');
    const combined = await admin.run([
      ...cli(part, 'combined'),
      'create-root',
      'comb',
      part.connstr,
    ]);
    expect(combined.code).toBe(0);
    const missing = await admin.run([
      ...cli(part, queue),
      'create-leaf',
      'part',
      part.connstr,
      '--provider',
      root.connstr,
      '--merge',
      'nope',
    ]);
    expect(missing.stderr).toBe(
      'setadm: error: --merge queue nope is no root or branch queue in the local database\n',
    );
    const merged = await admin.run([
      ...cli(part, queue),
      'create-leaf',
      'part',
      part.connstr,
      '--provider',
      root.connstr,
      '--merge',
      'combined',
    ]);
    expect(merged.code).toBe(0);
    const info = await admin.run([...cli(part, queue), 'node-info']);
    expect(info.stdout).toContain('Combined queue: combined (root)\n');
    const target = await admin.run([...cli(part, 'combined'), 'node-info']);
    expect(target.stdout).toContain(`Target for: ${queue}\n`);
    // Gone again, so the member lists of the next tests stay as they were.
    expect((await admin.run([...cli(root, queue), 'drop-node', 'part'])).code).toBe(0);
  });

  it('a name already in the set, a leaf as provider, a provider that does not answer: refused', async () => {
    const other = await nodeDb(test, 'other');
    const all = [root, branch, leaf, other];
    const before = await snapshot(all);
    const cases: [string[], string][] = [
      [
        ['create-branch', 'leaf', other.connstr, '--provider', root.connstr],
        `setadm: error: node leaf already exists in queue ${queue} (members: branch, branch2, leaf, root)\n`,
      ],
      [
        ['create-leaf', 'x', other.connstr, '--provider', leaf.connstr],
        `setadm: error: provider leaf is a leaf of queue ${queue}; only a root or branch can be a provider\n`,
      ],
      [
        ['create-leaf', 'x', other.connstr, '--provider', 'host=127.0.0.1 port=1 dbname=nowhere'],
        `setadm: error: node provider of queue ${queue} does not answer: cannot connect to`,
      ],
      [
        ['create-branch', 'x', other.connstr, '--provider', root.connstr, '--merge', 'm'],
        'setadm: error: --merge is only for create-leaf\n',
      ],
      [
        ['create-branch', 'x', other.connstr],
        'setadm: error: Provider location must be given either in command line (--provider) or config\n',
      ],
      [
        ['create-root', 'x'],
        'setadm: error: Node location must be given either in command line or config\n',
      ],
      // The public location reaches another database than the local one.
      [
        ['create-branch', 'x', leaf.connstr, '--provider', root.connstr],
        'setadm: error: public connect string of node x reaches another database',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await admin.run([...cli(other, queue), ...args]);
      expect(result.stderr.startsWith(message), `${args.join(' ')}: ${result.stderr}`).toBe(true);
      expect(result.code).toBe(1);
    }
    expect(await snapshot(all)).toEqual(before);
  });

  it('missing INI keys, an unknown option, an unknown command: one clear line, exit 1', async () => {
    const plain = await nodeDb(test, 'plain', { empty: true });
    const r0 = await admin.run([...cli(plain, queue), 'status']);
    expect(r0).toMatchObject({
      code: 1,
      stderr: `setadm: error: the local database has no pgq_node schema: it is no node of queue ${queue} (create-root, create-branch or create-leaf install it)\n`,
    });
    const noDb = admin.writeIni('nodb', { queue_name: queue });
    const r1 = await admin.run([noDb, 'status']);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/^setadm: error: .*nodb\.ini.*missing required key "node_db"/);
    const noQueue = admin.writeIni('noqueue', { node_db: root.connstr });
    const r2 = await admin.run([noQueue, 'status']);
    expect(r2.stderr).toMatch(/missing required key "queue_name"/);
    const r3 = await admin.run([...cli(root, queue), 'status', '--frobnicate']);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain("error: unknown option '--frobnicate'");
    const r4 = await admin.run([...cli(root, queue), 'rename-node', 'x']);
    expect(r4.code).toBe(1);
    expect(r4.stderr).toBe("setadm: error: bad subcommand 'rename-node', see --help for usage\n");
    const r5 = await admin.run([...cli(root, queue), 'tag-dead']);
    expect(r5.stderr).toBe("setadm: error: command 'tag-dead' got 0 args, but expects 1: NODE\n");
    const r6 = await admin.run(['status']);
    expect(r6.stderr).toBe('need config file, use --help for help.\n');
    // The job-name section is accepted too.
    const jobSection = admin.writeIni(
      'myjob',
      { node_db: root.connstr, queue_name: queue },
      'myjob',
    );
    const r7 = await admin.run([jobSection, 'members']);
    expect(r7.code).toBe(0);
  });

  it('bad numbers for the worker keys: one clear line naming the key, exit 1', async () => {
    const viaSet = await admin.run([
      ...cli(root, queue),
      '--set',
      'keepalive_stats=soon',
      'status',
    ]);
    expect(viaSet).toMatchObject({
      code: 1,
      stderr: `setadm: error: --set keepalive_stats needs a number of seconds from 0 to 2147483, not "soon"\n`,
    });
    const loop = await admin.run([...cli(root, queue), '--set', 'loop_delay=-1', 'status']);
    expect(loop.stderr).toBe(
      'setadm: error: --set loop_delay needs a number of seconds of 0 or more, not "-1"\n',
    );
    const huge = admin.writeIni('huge', {
      node_db: root.connstr,
      queue_name: queue,
      keepalive_stats: '9999999999',
    });
    const r = await admin.run([huge, 'status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/huge\.ini.*keepalive_stats must be at most 2147483 seconds/);
  });

  it('--ini prints a sample with --set merged in; --help explains each command', async () => {
    const ini = await admin.run(['--ini', '--set', 'queue_name=abc']);
    expect(ini.code).toBe(0);
    expect(ini.stdout).toMatch(/^\[cascade_admin\]\n/);
    expect(ini.stdout).toContain('\nqueue_name = abc\n');
    // The sample is the one docs/cascade.md shows.
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/cascade.md'), 'utf8');
    const shown = /```ini\n(\[cascade_admin\]\n## the local node[\s\S]*?)```/.exec(doc)?.[1];
    expect((await admin.run(['--ini'])).stdout).toBe(shown);
    const help = await admin.run(['--help']);
    expect(help.stdout).toContain('change-provider  move a node');
    const one = await admin.run(['--help', 'create-leaf']);
    expect(one.stdout).toContain(
      'Usage: setadm CONFIG create-leaf NAME [PUBLIC_CONNSTR] --provider=CONNSTR',
    );
    const worker = await admin.run(['worker', '--help']);
    expect(worker.stdout).toContain('Usage: setadm CONFIG worker');
  });
});
