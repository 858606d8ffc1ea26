/**
 * `londiste compare`: count and hash sum per table on the leaf and its provider at one
 * consistent point (no lock on the table), upstream's lines, the exit status = the number of tables that differ;
 * --count-only, compare_sql / compare_fmt, tables not in sync skipped with a line, a
 * lagging worker (refused, or --force), an open transaction on the source, bad input.
 *
 * The leaf's position is moved by a plain cascaded worker and the root ticked in a loop
 * here (the Londiste worker is built elsewhere): table rows are written on both sides by the
 * test, so what differs is what the test made differ.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { background, createChain, sharedNodes, type TestNode } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { addTable, cli, londiste, replicaQuery, setState } from './helpers.js';

const test = useTestDatabase();
const queue = 'cmpq';
let root: TestNode;
let leaf: TestNode;
let worker: CascadedWorker;
let loop: ReturnType<typeof background> | undefined;

/** The root ticked and the leaf's worker run, as pgqd and `londiste worker` would. */
function startReplica() {
  loop = background(async (signal) => {
    while (!signal.aborted) {
      await root.db.query('select pgq.ticker()');
      await worker.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
}

async function stopReplica() {
  await loop?.stop();
  loop = undefined;
}

const tables = ['same', 'changed', 'short', 'copying', 'Mixed Case'];

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  for (const name of tables) {
    const extra = name === 'Mixed Case' ? ', only_on_root int default 7' : '';
    await root.db.query(`create table "${name}" (id int primary key, v text${extra})`);
    await leaf.db.query(`create table "${name}" (id int primary key, v text)`);
    await root.db.query(
      `insert into "${name}" (id, v) select g, 'row ' || g from generate_series(1, 100) g`,
    );
    const leafRows =
      name === 'changed'
        ? `select g, case when g = 50 then 'other' else 'row ' || g end from generate_series(1, 100) g`
        : name === 'short'
          ? `select g, 'row ' || g from generate_series(1, 99) g`
          : `select g, 'row ' || g from generate_series(1, 100) g`;
    await replicaQuery(leaf, `insert into "${name}" (id, v) ${leafRows}`);
    await addTable(root, queue, `public.${name}`);
    await leaf.db.query('select * from londiste.global_add_table($1, $2)', [
      queue,
      `public.${name}`,
    ]);
    await addTable(leaf, queue, `public.${name}`);
    await setState(leaf, queue, `public.${name}`, name === 'copying' ? 'in-copy' : 'ok');
  }
  worker = new CascadedWorker({ connection: leaf.config, queue });
  startReplica();
});

afterAll(async () => {
  await stopReplica();
  await worker.close();
});

// Each case runs the bin a few times: generous limits for a loaded machine.
describe('compare', { timeout: 240_000 }, () => {
  it('every table: both results, a warning per difference, exit status = tables that differ', async () => {
    const result = await londiste([...cli(leaf, queue), 'compare']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('WARNING: public.changed: Results do not match!');
    expect(result.stderr).toContain('WARNING: public.short: Results do not match!');
    expect(result.stderr).toContain('WARNING: Table public.copying not synced yet, no point');
    expect(result.stderr).toContain('Syncing public.same');
    expect(result.stderr).toContain(
      'public.changed: 1 rows differ: 0 missing here, 0 extra here, 1 changed',
    );
    expect(result.stderr).toContain(
      'public.short: 1 rows differ: 1 missing here, 0 extra here, 0 changed',
    );
    expect(result.stderr).toContain('public.same: Using node root as provider');
    const out = result.stdout.split('\n');
    const at = (table: string) => out.indexOf(`Counting ${table}`);
    for (const table of ['public.Mixed Case', 'public.changed', 'public.same', 'public.short']) {
      expect(at(table), result.stdout).toBeGreaterThanOrEqual(0);
      expect(out[at(table) + 1]).toMatch(/^srcdb: \d+ rows, checksum=-?\d+$/);
      expect(out[at(table) + 2]).toMatch(/^dstdb: \d+ rows, checksum=-?\d+$/);
    }
    const pair = (table: string) => [out[at(table) + 1]?.slice(7), out[at(table) + 2]?.slice(7)];
    const [sameSrc, sameDst] = pair('public.same');
    expect(sameSrc).toBe(sameDst);
    // A column only the root has is left out of the sum: the common ones are equal.
    const [mixedSrc, mixedDst] = pair('public.Mixed Case');
    expect(mixedSrc).toBe(mixedDst);
    const [changedSrc, changedDst] = pair('public.changed');
    expect(changedSrc).toMatch(/^100 rows/);
    expect(changedDst).toMatch(/^100 rows/);
    expect(changedSrc).not.toBe(changedDst);
    expect(pair('public.short')[1]).toMatch(/^99 rows/);
    expect(out).not.toContain('Counting public.copying');
  });

  it('--count-only: counts alone, so only the short table differs', async () => {
    const result = await londiste([...cli(leaf, queue), 'compare', '--count-only']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Counting public.short\nsrcdb: 100 rows\ndstdb: 99 rows\n');
    expect(result.stdout).toContain('Counting public.changed\nsrcdb: 100 rows\ndstdb: 100 rows\n');
    expect(result.stderr).not.toContain('public.changed: Results do not match!');
  });

  it('named tables and globs; a name not added here is warned about', async () => {
    const one = await londiste([...cli(leaf, queue), 'compare', 'Mixed Case', 'same']);
    expect(one.code).toBe(0);
    expect(one.stdout.match(/^Counting /gm)).toHaveLength(2);
    const glob = await londiste([...cli(leaf, queue), 'compare', 'public.s*']);
    expect(glob.code).toBe(1);
    expect(glob.stdout).toContain('Counting public.same');
    expect(glob.stdout).toContain('Counting public.short');
    const missing = await londiste([...cli(leaf, queue), 'compare', 'nosuch']);
    expect(missing.code).toBe(0);
    expect(missing.stderr).toContain('WARNING: Table not subscribed: public.nosuch');
    expect(missing.stdout).toBe('');
  });

  it('compare_sql and compare_fmt from the INI replace the query and the line', async () => {
    const result = await londiste([
      ...cli(leaf, queue),
      '--set',
      'compare_sql=select count(1) as cnt, max(id) as top from only _TABLE_',
      '--set',
      'compare_fmt=%%(cnt)d rows up to %%(top)s',
      'compare',
      'short',
      'same',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'Counting public.short\nsrcdb: 100 rows up to 100\ndstdb: 99 rows up to 99\n',
    );
    expect(result.stdout).toContain(
      'Counting public.same\nsrcdb: 100 rows up to 100\ndstdb: 100 rows up to 100\n',
    );
  });

  it('a worker that does not catch up: refused after lock_timeout, or compared with --force', async () => {
    await stopReplica();
    try {
      const refused = await londiste([
        ...cli(leaf, queue),
        '--set',
        'lock_timeout=1',
        'compare',
        'same',
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr.trimEnd().split('\n').at(-1)).toMatch(
        /^londiste: error: Consumer lagging too much, exiting: node leaf at tick \d+ has not reached a tick of root taken after compare began within lock_timeout \(1 s\)/,
      );
      // The lock is gone with the command: the root takes writes again.
      await root.db.query(`update same set v = v where id = 1`);
      const forced = await londiste([
        ...cli(leaf, queue),
        '--set',
        'lock_timeout=1',
        'compare',
        'same',
        '--force',
      ]);
      expect(forced.code).toBe(0);
      expect(forced.stderr).toContain(
        'public.same: Consumer lagging too much, comparing anyway (--force)',
      );
      expect(forced.stdout).toContain('Counting public.same');
    } finally {
      startReplica();
    }
  });

  it('a transaction holding rows of the table on the source does not hold up compare', async () => {
    const writer = new pg.Client(root.config);
    await writer.connect();
    try {
      await writer.query('begin');
      await writer.query(`update same set v = v where id = 2`);
      const result = await londiste([
        ...cli(leaf, queue),
        '--set',
        'lock_timeout=5',
        'compare',
        'same',
      ]);
      expect(result.stderr).toContain('Syncing public.same');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(
        /^Counting public\.same\nsrcdb: 100 rows, checksum=(-?\d+)\ndstdb: 100 rows, checksum=\1\n$/,
      );
      await writer.query('commit');
    } finally {
      await writer.end();
    }
  });

  it('bad input: on the root, an unknown switch, a broken compare_sql or compare_fmt', async () => {
    const onRoot = await londiste([...cli(root, queue), 'compare']);
    expect(onRoot.code).toBe(1);
    expect(onRoot.stderr.trim()).toBe(
      `londiste: error: node root is the root of queue ${queue}: compare runs on a branch or leaf, against its provider`,
    );
    const badSwitch = await londiste([...cli(leaf, queue), 'compare', '--count-onlyy']);
    expect(badSwitch.code).toBe(1);
    expect(badSwitch.stderr).toContain("unknown option '--count-onlyy'");
    const badSql = await londiste([
      ...cli(leaf, queue),
      '--set',
      'compare_sql=select nonsense from only _TABLE_',
      'compare',
      'same',
    ]);
    expect(badSql.code).toBe(1);
    expect(badSql.stdout).toBe('Counting public.same\n');
    expect(badSql.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^londiste: error: compare on queue cmpq: column "nonsense" does not exist .*\[SQLSTATE 42703\]$/,
    );
    const badFmt = await londiste([
      ...cli(leaf, queue),
      '--set',
      'compare_fmt=%%(rows)d',
      'compare',
      'same',
    ]);
    expect(badFmt.code).toBe(1);
    expect(badFmt.stderr.trimEnd().split('\n').at(-1)).toBe(
      'londiste: error: compare_fmt names rows, which the compare query does not return (columns: cnt, chksum)',
    );
  });
});
