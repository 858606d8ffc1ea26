/** docs/pgqd.md: the quick start, run as written (paths and server swapped for the test's). */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { pgqdBin, poll, usePgqd } from './helpers.js';

const db = useTestDatabase();
const pgqd = usePgqd();
const doc = readFileSync(fileURLToPath(new URL('../../docs/pgqd.md', import.meta.url)), 'utf8');

describe('docs/pgqd.md', () => {
  it('runs the quick start: -d, -r and -s with the libpq environment', async () => {
    const section = doc.slice(doc.indexOf('## Quick start'));
    const ini = /```ini\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const shell = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(ini).toContain('database_list = shop');
    expect(shell).toContain('pgqd -d pgqd-example.ini');
    const local = (text: string) =>
      text
        .replaceAll('/tmp/pgqd-example', path.join(pgqd.dir, 'pgqd-example'))
        .replace('database_list = shop', `database_list = ${db.name}`)
        .replace('PGHOST=127.0.0.1', `PGHOST=${db.cluster.host}`)
        .replace('PGPORT=5432', `PGPORT=${db.cluster.port}`)
        .replace('PGUSER=postgres', `PGUSER=${db.cluster.user}`);
    writeFileSync(path.join(pgqd.dir, 'pgqd-example.ini'), local(ini));
    const binDir = path.join(pgqd.dir, 'bin');
    spawnSync('mkdir', ['-p', binDir]);
    symlinkSync(pgqdBin, path.join(binDir, 'pgqd'));
    const logfile = path.join(pgqd.dir, 'pgqd-example.log');
    const script = local(shell);
    const run = spawnSync('bash', ['-e', '-c', script], {
      cwd: pgqd.dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${binDir}:${process.env.PATH}` },
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('SIGHUP sent\nSIGINT sent\n');
    expect(run.status).toBe(0);
    await poll(
      async () => existsSync(path.join(pgqd.dir, 'pgqd-example.pid')),
      (exists) => !exists,
    );
    const log = readFileSync(logfile, 'utf8');
    expect(log).toMatch(/Got SIGHUP, re-reading config/);
    expect(log).toMatch(/Got SIGINT, stopping after the current step/);
    expect(log).toMatch(/pgqd stopped/);
  });
});
