/**
 * compare and repair of a big table (100k rows; 1M with SKYTOOLS_STRESS=1): equal, then 1000
 * rows changed, deleted and added on the leaf are found row by row (sum and md5 checksums),
 * `repair` writes fix.<table>.sql without touching the leaf, `repair --apply` makes both
 * sides equal; an interrupted compare goes on with --resume; the last result shows in
 * `tables`; bad input (no primary key, a wrong switch value) is one line.
 *
 * As in compare.test.ts, a plain cascaded worker moves the leaf's position and the rows are
 * written on both sides by the test, so what differs is what the test made differ.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { background, createChain, sharedNodes, type TestNode } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { addTable, cli, londiste, replicaQuery, setState, startLondiste } from './helpers.js';

const test = useTestDatabase();
const queue = 'fixq';
const rowCount = process.env.SKYTOOLS_STRESS === '1' ? 1_000_000 : 100_000;
const step = rowCount / 400;
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-repair-'));
let root: TestNode;
let leaf: TestNode;
let worker: CascadedWorker;
let loop: ReturnType<typeof background>;

async function register(name: string) {
  await addTable(root, queue, `public.${name}`);
  await leaf.db.query('select * from londiste.global_add_table($1, $2)', [queue, `public.${name}`]);
  await addTable(leaf, queue, `public.${name}`);
  await setState(leaf, queue, `public.${name}`, 'ok');
}

async function bothSides(sql: string) {
  await root.db.query(sql);
  await replicaQuery(leaf, sql);
}

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  await bothSides('create table big (id int primary key, v text, n numeric)');
  await bothSides(
    `insert into big select g, 'row ' || g, g / 7.0 from generate_series(1, ${rowCount}) g`,
  );
  await bothSides('create table resumable (id bigint primary key, v text)');
  await bothSides(`insert into resumable select g, 'r' || g from generate_series(1, 20000) g`);
  await replicaQuery(leaf, `update resumable set v = 'other' where id = 15555`);
  await bothSides('create table nopk (id int primary key, v text)');
  for (const name of ['big', 'resumable', 'nopk']) await register(name);
  // A key dropped on the leaf after the table was added.
  await leaf.db.query('alter table nopk drop constraint nopk_pkey');
  worker = new CascadedWorker({ connection: leaf.config, queue });
  loop = background(async (signal) => {
    while (!signal.aborted) {
      await root.db.query('select pgq.ticker()');
      await worker.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
}, 300_000);

afterAll(async () => {
  await loop.stop();
  await worker.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (...args: string[]) => londiste([...cli(leaf, queue), ...args], dir);

describe('compare and repair', { timeout: 600_000 }, () => {
  it('equal tables compare equal', async () => {
    const result = await run('compare', 'big');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^Counting public\\.big\\nsrcdb: ${rowCount} rows, checksum=(-?\\d+)\\ndstdb: ${rowCount} rows, checksum=\\1\\n$`,
      ),
    );
  });

  it('1000 rows changed, deleted and added on the leaf: found row by row, then repaired', async () => {
    await replicaQuery(leaf, `update big set v = v || ' changed' where id % ${step} = 0`);
    await replicaQuery(
      leaf,
      `delete from big where id % ${step} = 1 and id <= ${(step * 300) | 0}`,
    );
    await replicaQuery(
      leaf,
      `insert into big select g, 'extra', 0 from generate_series(${rowCount + 1}, ${rowCount + 300}) g`,
    );
    const summary = 'public.big: 1000 rows differ: 300 missing here, 300 extra here, 400 changed';
    {
      const result = await run('compare', 'big');
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain('WARNING: public.big: Results do not match!');
      expect(result.stderr).toContain(summary);
      expect(result.stdout).toContain(`srcdb: ${rowCount} rows`);
      expect(result.stdout).toContain(`dstdb: ${rowCount} rows`);
    }

    const written = await run('repair', 'big');
    expect(written.code, written.stderr).toBe(1);
    expect(written.stderr).toContain('public.big: missed: 300 inserts, 400 updates, 300 deletes');
    const fix = readFileSync(path.join(dir, 'fix.public.big.sql'), 'utf8').trimEnd().split('\n');
    expect(fix).toHaveLength(1001);
    expect(fix).toContain(`delete from only public.big where id = '${rowCount + 1}';`);
    expect(fix).toContainEqual(
      expect.stringMatching(
        /^insert into public\.big \(id, v, n\) values \('1', 'row 1', '0\.142857\d+'\);$/,
      ),
    );
    expect(fix).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^update only public\\.big set v = 'row ${step}', n = '[\\d.]+' where id = '${step}';$`,
        ),
      ),
    );
    // Without --apply the leaf is as it was.
    const { rows } = await leaf.db.query<{ n: string }>('select count(*)::text as n from big');
    expect(rows[0]?.n).toBe(String(rowCount));

    const applied = await run('repair', 'big', '--apply');
    expect(applied.code, applied.stderr).toBe(1);
    expect(applied.stderr).toContain('public.big: applied 1000 statements');
    for (const checksum of ['sum', 'md5']) {
      const after = await run('compare', 'big', '--checksum', checksum);
      expect(after.stderr).not.toContain('Results do not match');
      expect(after.code, after.stderr).toBe(0);
    }
    const status = await run('status');
    expect(status.stdout).toMatch(/public\.big: ok, last compare \S+Z equal/);
    const tables = await run('tables');
    expect(tables.stdout).toMatch(/public\.big\s+ok\s+\{'last_compare': '\S+ equal'\}/);
  });

  it('an interrupted compare goes on with --resume, skipping the ranges it finished', async () => {
    const state = path.join(dir, `compare.${queue}.state`);
    // A compare without --resume keeps no state.
    const plain = await run('compare', 'resumable', '--range-rows', '2000');
    expect(plain.code).toBe(1);
    expect(existsSync(state)).toBe(false);
    const slow = startLondiste(
      [
        ...cli(leaf, queue),
        'compare',
        'resumable',
        '--resume',
        '--range-rows',
        '2000',
        '--throttle',
        '0.3',
      ],
      dir,
    );
    const finished = () => {
      if (!existsSync(state)) return 0;
      const data = JSON.parse(readFileSync(state, 'utf8'));
      return Object.keys(data.tables['public.resumable']?.done ?? {}).length;
    };
    const deadline = Date.now() + 120_000;
    while (finished() < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(finished()).toBeGreaterThanOrEqual(3);
    const killed = await slow.kill();
    expect(killed.code).toBe('SIGKILL');
    const before = finished();

    const resumed = await run('compare', 'resumable', '--resume', '--range-rows', '2000');
    expect(resumed.stderr).toMatch(
      new RegExp(`public\\.resumable: resuming, ${before} of \\d+ ranges done before`),
    );
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(resumed.stderr).toContain(
      'public.resumable: 1 rows differ: 0 missing here, 0 extra here, 1 changed',
    );
    expect(resumed.stdout).toContain('srcdb: 20000 rows');
    // Done: nothing left to resume.
    expect(existsSync(state)).toBe(false);
    const md5 = await run('compare', 'resumable', '--checksum', 'md5', '--range-rows', '2000');
    expect(md5.code, md5.stderr).toBe(1);
    expect(md5.stdout).toMatch(/^srcdb: 20000 rows, checksum=[0-9a-f]{32}$/m);
    expect(md5.stderr).toContain(
      'public.resumable: 1 rows differ: 0 missing here, 0 extra here, 1 changed',
    );
  });

  it('bad input: a table without a primary key, a wrong --checksum, an unknown table', async () => {
    const nopk = await run('compare', 'nopk');
    expect(nopk.code).toBe(1);
    expect(nopk.stderr.trimEnd().split('\n').at(-1)).toBe(
      'londiste: error: table public.nopk has no primary key on node leaf: compare and repair need one',
    );
    const bad = await run('compare', 'big', '--checksum', 'crc');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('londiste: error: --checksum must be sum or md5, not "crc"');
    const unknown = await run('repair', 'nosuch');
    expect(unknown.code).toBe(0);
    expect(unknown.stderr).toContain('WARNING: Table not subscribed: public.nosuch');
    expect(unknown.stdout).toBe('');
  });
});
