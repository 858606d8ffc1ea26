/**
 * The qadmin bin as users run it: -c with several commands, -f, piped input, the ways to
 * name the database (-d URL or connect string, -h -p -U and a database name, the PG*
 * environment), -Q, `connect` to another database, and the exit codes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const bin = path.resolve(import.meta.dirname, '../../bin/qadmin.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-qadmin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function qadmin(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, ...options.env };
    for (const key of ['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE']) {
      if (options.env?.[key] === undefined) delete env[key];
    }
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

const queues = async () =>
  (await db.query('select queue_name from pgq.get_queue_info() order by 1')).rows.map(
    (r) => r.queue_name,
  );

describe('qadmin bin', () => {
  it('runs the example of docs/qadmin.md as written', async () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/qadmin.md'), 'utf8');
    const example = doc.slice(doc.indexOf('## An example'));
    const line = /```sh\nqadmin -d "dbname=shop" -c "(.*)"\n```/.exec(example)?.[1];
    const expected = /```text\n([\s\S]*?)```/.exec(example)?.[1];
    expect(line).toBeDefined();
    // -d as a URL here; the file test below gives it as key=value.
    const result = await qadmin(['-d', db.url, '-c', line ?? '']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(expected);
  });

  it('takes -h -p -U and a database name (with -Q), or the PG* environment', async () => {
    const { host, port, user } = db.cluster;
    const byFlags = await qadmin([
      '-h',
      host,
      '-p',
      String(port),
      '-U',
      user,
      db.name,
      '-Q',
      'orders',
      '-c',
      'show consumer',
    ]);
    expect(byFlags.stderr).toBe('');
    expect(byFlags.code).toBe(0);
    // Queue "orders" and its consumer "mailer" come from the docs example above.
    expect(byFlags.stdout).toContain('Consumers on queue "orders"');
    expect(byFlags.stdout).toMatch(/^ orders +\| mailer +\|/m);
    const byEnv = await qadmin(['-c', 'show queue orders'], {
      env: { PGHOST: host, PGPORT: String(port), PGUSER: user, PGDATABASE: db.name },
    });
    expect(byEnv.code).toBe(0);
    expect(byEnv.stdout).toMatch(/^ orders +\|/m);
  });

  it('stops at the first failing command with one error line and exit 1', async () => {
    const result = await qadmin([
      '-d',
      db.url,
      '-c',
      'create queue cli_b; show queue cli_nope; create queue cli_c',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('queue "cli_b" created\n');
    expect(result.stderr).toBe('ERROR: unknown queue: "cli_nope"\n');
    expect(await queues()).not.toContain('cli_c');
    const syntax = await qadmin(['-d', db.url, '-c', 'register consumer x on']);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toBe(
      'ERROR: incomplete command "register consumer x on": expected a queue name\n',
    );
  });

  it('refuses an unknown -Q queue and an unreachable server before running anything', async () => {
    const unknown = await qadmin(['-d', db.url, '-Q', 'cli_zz', '-c', 'create queue cli_d']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('qadmin: error: unknown queue: "cli_zz"\n');
    expect(await queues()).not.toContain('cli_d');
    const down = await qadmin(['-h', '127.0.0.1', '-p', '1', '-U', 'x', 'y', '-c', 'show queue']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^qadmin: error: cannot connect to x@127\.0\.0\.1:1\/y: .*ECONNREFUSED/,
    );
  });

  it('runs a file with -f, and statements piped on stdin (going on after an error)', async () => {
    const file = path.join(dir, 'setup.sql');
    writeFileSync(file, 'create queue cli_f;\nregister consumer\n  worker on cli_f;\n');
    const { host, port, user } = db.cluster;
    const connstr = `host=${host} port=${port} user=${user} dbname=${db.name}`;
    const byFile = await qadmin(['-d', connstr, '-f', file]);
    expect(byFile.code).toBe(0);
    expect(byFile.stdout).toBe(
      'queue "cli_f" created\nregistered consumer "worker" on queue "cli_f"\n',
    );
    const piped = await qadmin(['-d', db.url], {
      input:
        'create queue cli_p;\nshow nonsense;\nshow queue\n  cli_p;\nexit;\ncreate queue cli_never;\n',
    });
    expect(piped.code).toBe(1);
    expect(piped.stderr).toBe(
      'ERROR: syntax error at "nonsense": expected queue, consumer, batch, node, table, sequence, version or help\n',
    );
    expect(piped.stdout).toMatch(/^queue "cli_p" created\n/);
    expect(piped.stdout).toMatch(/^ cli_p +\|/m);
    expect(await queues()).not.toContain('cli_never');
  });

  it('connects to another database with connect, keeping host, port and user', async () => {
    const other = await db.createDatabase('other', { template: db.cluster.templateDatabase });
    const result = await qadmin([
      '-d',
      db.url,
      '-c',
      `connect dbname=${other}; create queue cli_elsewhere; connect queue=cli_elsewhere; show queue`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `connected to ${db.cluster.user}@${db.cluster.host}:${db.cluster.port}/${other}\n`,
    );
    expect(result.stdout).toContain(`/${other}, queue "cli_elsewhere"`);
    expect(await queues()).not.toContain('cli_elsewhere');
  });
});
