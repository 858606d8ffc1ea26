/**
 * `pgqd x.ini 2>&1 | head`: the reader of pgqd's console goes away while it runs. pgqd must
 * not die with a stack on EPIPE nor leave its pidfile behind: it stops as on SIGINT, and its
 * logfile says why. The pipe here is a real one, closed early by `head`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { pgqdBin, usePgqd } from './helpers.js';

const db = useTestDatabase();
const pgqd = usePgqd();
const base = `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`;

describe('pgqd with its console piped into head', () => {
  it('stops cleanly when head exits: exit 0, no stack, no pidfile left', () => {
    const pidfile = path.join(pgqd.dir, 'piped.pid');
    const logfile = path.join(pgqd.dir, 'piped.log');
    const config = pgqd.writeConfig('piped', {
      base_connstr: base,
      database_list: db.name,
      pidfile,
      logfile,
      stats_period: 0.1,
    });
    // -v: debug lines keep coming, so pgqd writes again soon after head has gone.
    const script = `"${process.execPath}" "${pgqdBin}" -v "${config}" 2>&1 | head -n 2; echo "pgqd exit: \${PIPESTATUS[0]}"`;
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ INFO pgqd .* starting$/);
    expect(lines[2]).toBe('pgqd exit: 0');
    expect(existsSync(pidfile)).toBe(false);
    const log = readFileSync(logfile, 'utf8');
    expect(log).toMatch(/ WARNING console closed \(EPIPE\), stopping after the current step\n/);
    expect(log).toMatch(/ INFO pgqd stopped\n$/);
    expect(log).not.toMatch(/^\s+at /m);
  });
});
