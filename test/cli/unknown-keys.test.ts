/**
 * Unknown INI keys, one rule per kind of tool (decisions.md): pgqd refuses them as upstream's
 * C pgqd does; simple_consumer, simple_local_consumer and setadm (admin commands and worker)
 * warn once per key with file, line and a close match, and run. Upstream's own keys of the
 * base classes, `[DEFAULT]` and other sections raise nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-keys-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function connstr(): string {
  const c = db.config();
  return `host=${c.host} port=${c.port} user=${c.user} dbname=${c.database}`;
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function start(bin: string, args: string[]) {
  const child = spawn(process.execPath, [path.join(root, 'bin', `${bin}.js`), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  const waitFor = async (pattern: RegExp) => {
    const deadline = Date.now() + 30_000;
    while (!pattern.test(stderr)) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no ${pattern} in:\n${stderr}${stdout}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, exited, waitFor, stdout: () => stdout, stderr: () => stderr };
}

async function run(bin: string, args: string[]) {
  const proc = start(bin, args);
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

const warningLines = (text: string) => text.split('\n').filter((line) => /unknown key/.test(line));

describe('pgqd refuses unknown keys', () => {
  it('names file, line, the key, a close match, and the other unknown keys', async () => {
    const file = write(
      'pgqd-typo.ini',
      '[pgqd]\nbase_connstr = host=127.0.0.1\ntikcer_period = 1\nstats_period = 5\nbogus = 2\n',
    );
    const result = await run('pgqd', [file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `pgqd: error: ${file}:3: [pgqd] unknown key "tikcer_period" (did you mean "ticker_period"?); also "bogus" (line 5)\n`,
    );
  });

  it('does not check [DEFAULT] or other sections', async () => {
    const file = write(
      'pgqd-default.ini',
      '[DEFAULT]\nanything = 1\n[pgqd]\nlogfile = %(anything)s.log\n[other]\nbogus = 1\n',
    );
    // -s loads the file fully, then finds no pidfile: the keys were accepted.
    const result = await run('pgqd', [file, '-s']);
    expect(result.stderr).toBe('No pidfile configured\n');
  });
});

describe('the Python-upstream tools warn once and run', () => {
  const upstreamKeys =
    'use_skylog = 0\nlog_size = 1000000\nlogfmt_console = x\nsql_retry = 0\npgq_autocommit = 0\n';

  for (const tool of ['simple_consumer', 'simple_local_consumer'] as const) {
    it(`${tool}: one warning per unknown key, with file, line and close match`, async () => {
      const queue = `q_${tool}`;
      await db.query('select pgq.create_queue($1)', [queue]);
      await db.query('select pgq.register_consumer($1, $2)', [queue, 'keys_job']);
      const local =
        tool === 'simple_local_consumer' ? `local_tracking_file = ${dir}/${tool}.tick\n` : '';
      const file = write(
        `${tool}.ini`,
        `[DEFAULT]\nnot_checked = 1\n[${tool}]\nsrc_db = ${connstr()}\nqueue_name = ${queue}\n` +
          `consumer_name = keys_job\ndst_query = select 1\nloop_dealy = 1\n${upstreamKeys}` +
          `zzz_unknown = 1\n${local}[other]\nbogus = 1\n`,
      );
      const job = start(tool, [file]);
      await job.waitFor(/starting: consumer keys_job/);
      job.child.kill('SIGINT');
      expect(await job.exited).toBe(0);
      const warnings = warningLines(job.stderr());
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(
        new RegExp(
          ` WARNING .*${file}:8: \\[${tool}\\] unknown key "loop_dealy" \\(did you mean "loop_delay"\\?\\) ignored$`,
        ),
      );
      expect(warnings[1]).toMatch(
        new RegExp(`${file}:14: \\[${tool}\\] unknown key "zzz_unknown" ignored$`),
      );
    });
  }

  it('setadm: admin commands and the worker warn once and run', async () => {
    const file = write(
      'root.ini',
      `[cascade_admin]\nnode_db = ${connstr()}\nqueue_name = keysq\nnode_nmae = root\n` +
        `${upstreamKeys}global_wm_publish_period = 300\nkeepalive_stats = 0\nloop_delay = 0.2\n`,
    );
    const created = await run('setadm', [file, 'create-root', 'root', connstr()]);
    expect(created.code, created.stderr).toBe(0);
    expect(warningLines(created.stderr)).toEqual([
      `setadm: warning: ${file}:4: [cascade_admin] unknown key "node_nmae" (did you mean "node_name"?) ignored`,
    ]);
    const worker = start('setadm', [file, 'worker']);
    await worker.waitFor(/worker starting: queue keysq/);
    worker.child.kill('SIGINT');
    expect(await worker.exited).toBe(0);
    expect(warningLines(worker.stderr())).toHaveLength(1);
  });
});
