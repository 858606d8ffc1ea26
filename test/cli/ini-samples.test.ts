/**
 * The `--ini` sample of every tool runs as printed on a fresh machine (an empty home
 * directory): written to a file with only the database connect values filled in, the job
 * starts and does its work. No path in a sample may need a directory that is not there.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const root = path.resolve(import.meta.dirname, '../..');
const home = mkdtempSync(path.join(os.tmpdir(), 'skytools-home-'));
const work = mkdtempSync(path.join(os.tmpdir(), 'skytools-samples-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});
const env = { ...process.env, HOME: home };
const server = `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`;
const conn = `${server} dbname=${db.name}`;

function bin(tool: string): string {
  return path.join(root, 'bin', `${tool}.js`);
}

/** `tool --ini` with the given keys' lines (commented out or not) set to these values. */
function sample(tool: string, fill: Record<string, string>, name: string): string {
  const printed = spawnSync(process.execPath, [bin(tool), '--ini'], { encoding: 'utf8', env });
  expect(printed.status).toBe(0);
  let text = printed.stdout;
  for (const [key, value] of Object.entries(fill)) {
    const line = new RegExp(`^#?${key} =.*$`, 'm');
    expect(text, `${tool} --ini has ${key}`).toMatch(line);
    text = text.replace(line, `${key} = ${value}`);
  }
  const file = path.join(work, `${name}.ini`);
  writeFileSync(file, text);
  return file;
}

function start(tool: string, args: string[]) {
  const child = spawn(process.execPath, [bin(tool), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    cwd: work,
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return { child, exited, output: () => output };
}

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(job: ReturnType<typeof start>): Promise<void> {
  job.child.kill('SIGINT');
  const code = await job.exited;
  expect(code, job.output()).toBe(0);
  expect(job.output()).not.toMatch(/^\s+at /m);
}

describe('--ini samples run as printed', () => {
  it('pgqd: ticks a queue', async () => {
    await db.query("select pgq.create_queue('sample_ticked')");
    const ticks = async () =>
      Number(
        (
          await db.query<{ n: string }>(
            "select count(*) as n from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue where q.queue_name = 'sample_ticked'",
          )
        ).rows[0]?.n,
      );
    const before = await ticks();
    const file = sample('pgqd', { base_connstr: server, database_list: db.name }, 'pgqd');
    const job = start('pgqd', [file]);
    await db.query("select pgq.insert_event('sample_ticked', 't', 'd')");
    await until('a tick by pgqd', async () => ((await ticks()) > before ? true : undefined));
    await stop(job);
  });

  for (const tool of ['simple_consumer', 'simple_local_consumer']) {
    it(`${tool}: registers and applies an event`, async () => {
      await db.query("select pgq.create_queue('orders')");
      await db.query('create table if not exists order_log (order_id int, ev_id bigint)');
      const name = `${tool}_job`;
      const file = sample(tool, { src_db: conn, dst_db: conn }, name);
      const register = spawnSync(process.execPath, [bin(tool), file, '--register'], {
        encoding: 'utf8',
        env,
        cwd: work,
      });
      expect(register.stderr).toBe('');
      expect(register.stdout).toBe(`registered consumer "${name}" on queue "orders"\n`);
      const job = start(tool, [file]);
      await until('the job to start', async () =>
        job.output().includes(`starting: consumer ${name}`) ? true : undefined,
      );
      const id = tool === 'simple_consumer' ? 1 : 2;
      await db.query("select pgq.insert_event('orders', 'I:id', $1)", [`id=${id}`]);
      await db.query("select pgq.force_tick('orders')");
      await db.query("select pgq.ticker('orders')");
      await until('the row from dst_query', async () => {
        const { rows } = await db.query('select 1 from order_log where order_id = $1', [id]);
        return rows.length > 0 ? true : undefined;
      });
      await stop(job);
      if (tool === 'simple_local_consumer')
        expect(existsSync(path.join(work, `${name}.tick`))).toBe(true);
    });
  }

  it('setadm: create-root, then the worker runs', async () => {
    const file = sample('setadm', { node_db: conn }, 'node1');
    const created = spawnSync(
      process.execPath,
      [bin('setadm'), file, 'create-root', 'node1', conn],
      {
        encoding: 'utf8',
        env,
        cwd: work,
      },
    );
    expect(created.status, created.stderr).toBe(0);
    const job = start('setadm', [file, 'worker']);
    await until('the worker to start', async () =>
      /worker starting: queue myqueue/.test(job.output()) ? true : undefined,
    );
    await stop(job);
  });
});
