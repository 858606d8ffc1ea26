/**
 * scriptmgr with real jobs: pgqd and simple_consumer found through config_list globs,
 * started as daemons, checked by their pidfiles, reloaded, killed -9 (DEAD in status),
 * restarted and stopped; and the bad input: unknown job, malformed INI, mixed user=.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot } from '../../src/pg/os-user.js';
import { processAlive } from '../../src/script/pidfile.js';
import {
  loadScriptmgr,
  ScriptManager,
  type ScriptmgrCommand,
  type Selection,
} from '../../src/scriptmgr/index.js';
import { useTestDatabase } from '../harness/database.js';
import { killDaemons } from '../harness/tool-processes.js';
import { until } from '../harness/until.js';

const db = useTestDatabase();
const bin = path.resolve(import.meta.dirname, '../../bin/scriptmgr.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-scriptmgr-'));
afterAll(() => {
  killDaemons(dir);
  if (existsSync(path.join(dir, 'user'))) killDaemons(path.join(dir, 'user'));
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function scriptmgr(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const { host, port, user } = db.cluster;
    const env = { ...process.env, PGHOST: host, PGPORT: String(port), PGUSER: user };
    const child = spawn(process.execPath, [bin, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const write = (file: string, text: string) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
};
const pidOf = (file: string) => Number(readFileSync(file, 'utf8').trim());

/** A scriptmgr command run in this process: its exit code, and its output and log lines. */
async function inProcess(command: ScriptmgrCommand, names: string[], selection: Selection = {}) {
  const lines: string[] = [];
  const manager = new ScriptManager(loadScriptmgr(mgr), captureLogger(lines), {
    print: (line) => lines.push(line),
    pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  return { code: await manager.run(command, names, selection), lines };
}

/** A logger whose lines land in `lines` as `LEVEL message`. */
function captureLogger(lines: string[]) {
  const names: Record<number, string> = { 30: 'INFO', 40: 'WARNING', 50: 'ERROR' };
  return pino(
    { level: 'info' },
    {
      write(line: string) {
        const { level, msg } = JSON.parse(line) as { level: number; msg: string };
        lines.push(`${names[level] ?? level} ${msg}`);
      },
    },
  );
}

let connstr: string;
let mgr: string;
let docStatus: string;

beforeAll(async () => {
  const { host, port, user } = db.cluster;
  connstr = `host=${host} port=${port} user=${user} dbname=${db.name}`;
  await db.query('create table public.order_seen (id int, ev_id bigint)');
  await db.query("select pgq.create_queue('orders'), pgq.register_consumer('orders', 'orders')");
  // The files of docs/scriptmgr.md as written, with its database `shop` replaced by ours.
  const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/scriptmgr.md'), 'utf8');
  const files = [...doc.matchAll(/`([a-z/_.]+\.ini)`[^\n]*:\n\n```ini\n([\s\S]*?)```/g)];
  expect(files.map((m) => m[1])).toEqual([
    'scriptmgr.ini',
    'jobs/ticker.ini',
    'jobs/orders.ini',
    'jobs/split.ini',
  ]);
  for (const [, name, text] of files) {
    write(path.join(dir, name as string), (text as string).replace(/\bshop\b/g, db.name));
  }
  mgr = path.join(dir, 'scriptmgr.ini');
  docStatus = /```text\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  expect(doc).toContain(
    '```sh\nscriptmgr scriptmgr.ini start -a\nscriptmgr scriptmgr.ini status\n```',
  );
  // Not a job of any service here.
  write(path.join(dir, 'jobs/other.ini'), '[walmgr]\njob_name = wal\n');
});

describe('scriptmgr', () => {
  it('starts every job, shows it running, and the jobs do their work', async () => {
    const before = await scriptmgr([mgr, 'status']);
    expect(before.code).toBe(1);
    expect(before.stdout).toBe(
      [
        ' STOPPED  [pgqd] ticker',
        ' STOPPED  [queue_splitter3] split  (disabled)',
        ' STOPPED  [simple_consumer3] orders',
        '',
      ].join('\n'),
    );
    const start = await scriptmgr([mgr, 'start', '-a']);
    expect(start.code).toBe(0);
    expect(start.stderr).toMatch(/INFO \[job=scriptmgr_host1\] Starting ticker\n/);
    expect(start.stderr).toMatch(/INFO \[job=scriptmgr_host1\] Starting orders\n/);
    expect(start.stderr).toMatch(/Skipping disabled job split/);
    expect(processAlive(pidOf(`${dir}/ticker.pid`))).toBe(true);
    // The consumer's relative pidfile is taken from the service's cwd, where it was started.
    expect(processAlive(pidOf(`${dir}/orders.pid`))).toBe(true);
    const running = await scriptmgr([mgr, 'status']);
    expect(running.code).toBe(0);
    expect(running.stdout).toBe(docStatus);

    await db.query("select pgq.insert_event('orders', 'I:id', 'id=7')");
    await until(
      'the consumer to apply the event',
      async () => (await db.query('select id from public.order_seen')).rows,
      (rows) => rows.length === 1,
    );

    // The same code in this process from here on: no Node start per command.
    const again = await inProcess('start', ['orders']);
    expect(again).toEqual({ code: 0, lines: ['WARNING Script orders seems running'] });
    const reload = await inProcess('reload', [], { type: 'simple_consumer3' });
    expect(reload).toEqual({ code: 0, lines: ['INFO Reloading orders'] });
    await until(
      'the reload in the job log',
      async () => readFileSync(`${dir}/orders.log`, 'utf8'),
      (log) => log.includes('Got SIGHUP, re-reading config'),
    );
  });

  it('shows a job killed -9 as DEAD, restarts it, and stops everything with -w', async () => {
    const killed = pidOf(`${dir}/orders.pid`);
    process.kill(killed, 'SIGKILL');
    await until(
      'the killed job to be gone',
      async () => processAlive(killed),
      (alive) => !alive,
    );
    const status = await scriptmgr([mgr, 'status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(
      ` DEAD     [simple_consumer3] orders  (pid ${killed} is gone, pidfile left)\n`,
    );
    expect(status.stdout).toContain(' OK       [pgqd] ticker\n');

    const restart = await scriptmgr([mgr, 'restart', 'orders']);
    expect(restart.code).toBe(0);
    expect(restart.stderr).toMatch(/Job orders not running/);
    const fresh = pidOf(`${dir}/orders.pid`);
    expect(fresh).not.toBe(killed);
    expect(processAlive(fresh)).toBe(true);
    await db.query("select pgq.insert_event('orders', 'I:id', 'id=8')");
    await until(
      'the restarted consumer to apply the event',
      async () =>
        (await db.query('select id from public.order_seen order by id')).rows.map((r) => r.id),
      (ids) => ids.includes(8),
    );

    const info = await scriptmgr([mgr, 'info', 'orders']);
    expect(info.stdout).toContain(`  config:   ${dir}/jobs/orders.ini\n`);
    expect(info.stdout).toContain(`  state:    running (pid ${fresh})\n`);
    expect(info.stdout).toMatch(
      / {2}command: {2}\S+node\S* \S+\/bin\/simple_consumer\.js \S+orders\.ini -v -d\n/,
    );

    const ticker = pidOf(`${dir}/ticker.pid`);
    const stop = await scriptmgr([mgr, 'stop', '-a', '-w']);
    expect(stop.code).toBe(0);
    expect(processAlive(fresh)).toBe(false);
    expect(processAlive(ticker)).toBe(false);
    expect(existsSync(`${dir}/orders.pid`)).toBe(false);
    expect(readFileSync(`${dir}/orders.log`, 'utf8')).toMatch(
      /Got SIGINT, stopping after the current batch/,
    );
    expect(await inProcess('status', [], { type: 'pgqd' })).toEqual({
      code: 1,
      lines: [' STOPPED  [pgqd] ticker'],
    });
  });

  it('refuses unknown jobs, commands and services with exit 1', async () => {
    const unknown = await scriptmgr([mgr, 'start', 'nope', '-q']);
    expect(unknown).toMatchObject({ code: 1, stdout: '', stderr: '' });
    expect(readFileSync(`${dir}/scriptmgr_host1.log`, 'utf8')).toMatch(
      /ERROR \[job=scriptmgr_host1\] Unknown job: nope\n/,
    );
    const command = await scriptmgr([mgr, 'frob']);
    expect(command).toMatchObject({ code: 1, stderr: 'unknown command: frob\n' });
    // The rest in this process: the same code the bin runs, without a Node start each.
    const lines: string[] = [];
    const manager = new ScriptManager(loadScriptmgr(mgr), captureLogger(lines), {
      print: (line) => lines.push(line),
      pause: () => Promise.resolve(),
    });
    expect(await manager.run('status', ['nope'], {})).toBe(1);
    expect(lines).toEqual(['ERROR Unknown job: nope']);
    await expect(manager.run('start', [], {})).rejects.toThrow(
      'no jobs given? name jobs, or use -a (all) or -t SERVICE',
    );
    await expect(manager.run('stop', [], { type: 'londiste' })).rejects.toThrow(
      `unknown service: londiste (no [londiste] section in ${mgr})`,
    );
    expect(manager.select('start', [], { type: 'pgqd' })).toEqual(['ticker']);
    expect(manager.select('info', [], {})).toEqual(['ticker', 'split', 'orders']);
  });

  it('refuses a malformed INI and a mix of services with and without user=, naming the file', async () => {
    const broken = write(
      path.join(dir, 'bad/broken.ini'),
      '[scriptmgr]\nconfig_list = x/*.ini\nthis line is not a key\n',
    );
    const bad = await scriptmgr([broken, 'status']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `scriptmgr: error: ${broken}:3: cannot parse line: this line is not a key\n`,
    );
    const mixed = write(
      path.join(dir, 'bad/mixed.ini'),
      '[scriptmgr]\nconfig_list = x/*.ini\n[pgqd]\nscript = pgqd\nuser = skytools\n[londiste]\nscript = londiste\n',
    );
    expect(() => loadScriptmgr(mixed)).toThrow(
      `${mixed}: Invalid config - some jobs have user=, some don't ([londiste] without)`,
    );
    const noList = write(path.join(dir, 'bad/nolist.ini'), '[scriptmgr]\njob_name = x\n');
    expect(() => loadScriptmgr(noList)).toThrow(
      `${noList}: [scriptmgr] missing required key "config_list"`,
    );
    const noScript = write(
      path.join(dir, 'bad/noscript.ini'),
      '[scriptmgr]\nconfig_list = x\n[pgqd]\nargs = -v\n',
    );
    expect(() => loadScriptmgr(noScript)).toThrow(
      `${noScript}: [pgqd] missing required key "script"`,
    );
    // A job whose own start fails (its INI lacks a required key): exit 1, named.
    const failing = write(
      path.join(dir, 'bad/failing.ini'),
      `[scriptmgr]\nconfig_list = failing.job\n[simple_consumer]\nscript = simple_consumer\n`,
    );
    write(
      path.join(dir, 'bad/failing.job'),
      `[simple_consumer]\njob_name = failing\npidfile = ${dir}/bad/failing.pid\n`,
    );
    const lines: string[] = [];
    const manager = new ScriptManager(loadScriptmgr(failing), captureLogger(lines), {
      print: (line) => lines.push(line),
      pause: () => Promise.resolve(),
    });
    expect(await manager.run('start', ['failing'], {})).toBe(1);
    expect(lines).toEqual([
      'INFO Starting failing',
      'ERROR startup failed: failing',
      'ERROR some scripts failed',
    ]);
    expect(() => loadScriptmgr(path.join(dir, 'bad/none.ini'))).toThrow(
      /^cannot read config file .*none\.ini: ENOENT$/,
    );
    // A job file that cannot be read is skipped with a warning; the other jobs stay usable.
    write(path.join(dir, 'jobs/zz-broken.ini'), '[pgqd]\nnot a key line\n');
    try {
      const settings = loadScriptmgr(mgr);
      expect(settings.jobs.map((j) => j.jobName)).toEqual(['ticker', 'split', 'orders']);
      expect(settings.warnings).toEqual([
        `skipping ${dir}/jobs/zz-broken.ini: ${dir}/jobs/zz-broken.ini:2: cannot parse line: not a key line`,
      ]);
    } finally {
      rmSync(path.join(dir, 'jobs/zz-broken.ini'));
    }
  });

  it.skipIf(!isRoot())('runs a service with user= as that user', async () => {
    const userDir = path.join(dir, 'user');
    mkdirSync(userDir);
    chmodSync(dir, 0o755);
    chmodSync(userDir, 0o777);
    const cfg = write(
      path.join(userDir, 'scriptmgr.ini'),
      `[scriptmgr]\nconfig_list = *.job\n[simple_consumer]\nscript = simple_consumer\nuser = skytools\ncwd = ${userDir}\n`,
    );
    write(
      path.join(userDir, 'as-user.job'),
      `[simple_consumer]\njob_name = as_user\nsrc_db = ${connstr}\nqueue_name = orders\nconsumer_name = orders\ndst_query = select 1\npidfile = ${userDir}/as-user.pid\nlogfile = ${userDir}/as-user.log\n`,
    );
    const start = await scriptmgr([cfg, 'start', 'as_user']);
    expect(start.stderr).not.toMatch(/ERROR/);
    expect(start.code).toBe(0);
    const pid = pidOf(`${userDir}/as-user.pid`);
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    expect(Number(uid)).toBe(statSync(`${userDir}/as-user.pid`).uid);
    expect(Number(uid)).not.toBe(0);
    expect((await scriptmgr([cfg, 'status'])).stdout).toBe(' OK       [simple_consumer] as_user\n');
  });
});
