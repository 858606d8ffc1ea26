/** The pgqd command line: switches, daemon mode, pidfile, signals and bad configs. */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive, readPidfile } from '../../src/script/index.js';
import { useTestDatabase } from '../harness/database.js';
import { startSyslogReceiver } from '../script/syslog-receiver.js';
import { pgqdBin, poll, usePgqd } from './helpers.js';

const db = useTestDatabase();
const pgqd = usePgqd();
const base = `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`;
const daemons: number[] = [];

afterAll(async () => {
  for (const pid of daemons) {
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    await poll(
      async () => processAlive(pid),
      (alive) => !alive,
    );
  }
});

function daemonConfig(name: string, extra: Record<string, string | number> = {}) {
  return pgqd.writeConfig(name, {
    base_connstr: base,
    database_list: db.name,
    pidfile: path.join(pgqd.dir, `${name}.pid`),
    logfile: path.join(pgqd.dir, `${name}.log`),
    ...extra,
  });
}

const logOf = (name: string) => {
  const file = path.join(pgqd.dir, `${name}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

async function startDaemon(name: string) {
  const config = daemonConfig(name);
  const result = await pgqd.run([config, '-d']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const pid = readPidfile(path.join(pgqd.dir, `${name}.pid`)) as number;
  expect(pid).toBeGreaterThan(0);
  daemons.push(pid);
  expect(processAlive(pid)).toBe(true);
  await poll(
    async () => logOf(name),
    (log) => /pgq 3\.5 found/.test(log),
  );
  return { config, pid };
}

const gone = (pid: number) =>
  poll(
    async () => processAlive(pid),
    (alive) => !alive,
  );

describe('pgqd switches', () => {
  it('-V prints the version, --ini a sample config with logfile, --help the usage', async () => {
    const version = await pgqd.run(['-V']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^pgqd version \d+\.\d+\.\d+$/);
    const ini = await pgqd.run(['--ini']);
    expect(ini.code).toBe(0);
    expect(ini.stdout).toMatch(/^\[pgqd\]/);
    expect(ini.stdout).toMatch(/logfile/);
    expect(ini.stdout).toMatch(/ticker_min_interval = 0\.01/);
    const help = await pgqd.run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/-s, --stop/);
    expect(help.stdout).toMatch(/PGHOST/);
    // The sample is a valid config.
    const sample = path.join(pgqd.dir, 'sample.ini');
    writeFileSync(sample, ini.stdout);
    const check = await pgqd.run([sample, '-s']);
    expect(check.stderr).toBe('No pidfile configured');
  });

  it('skytools pgqd runs the same command', () => {
    const skytools = path.resolve(path.dirname(pgqdBin), 'skytools.js');
    const result = spawnSync(process.execPath, [skytools, 'pgqd', '-V']);
    expect(result.status).toBe(0);
    expect(result.stdout.toString()).toMatch(/^pgqd version /);
  });

  it('without a config file says so', async () => {
    const result = await pgqd.run([]);
    expect(result).toMatchObject({ code: 1, stderr: 'need config file, use --help for help.' });
  });

  it('-s, -k, -r without a pidfile or without a running process', async () => {
    const none = pgqd.writeConfig('nopid', { base_connstr: base });
    for (const flag of ['-s', '-k', '-r']) {
      expect(await pgqd.run([none, flag])).toMatchObject({
        code: 1,
        stderr: 'No pidfile configured',
      });
    }
    const config = daemonConfig('notrunning');
    expect(await pgqd.run([config, '-s'])).toMatchObject({
      code: 1,
      stderr: 'Old process is not running',
    });
    const daemon = pgqd.writeConfig('nodaemonpid', { base_connstr: base });
    expect(await pgqd.run([daemon, '-d'])).toMatchObject({
      code: 1,
      stderr: 'pgqd: error: Daemon needs pidfile',
    });
  });
});

describe('bad configs: one clear error, exit 1', () => {
  it('unknown key', async () => {
    const config = pgqd.writeConfig('unknown', { base_connstr: base, tikcer_period: 1 });
    const result = await pgqd.run([config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `pgqd: error: ${config}:9: [pgqd] unknown key "tikcer_period" (did you mean "ticker_period"?)`,
    );
  });

  it('bad connection string', async () => {
    const config = pgqd.writeConfig('badconn', { base_connstr: "host='unterminated" });
    const result = await pgqd.run([config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^pgqd: error: .*badconn\.ini:\d+: \[pgqd\] bad base_connstr: invalid connection string: unterminated quoted value for "host"$/,
    );
  });

  it('bad period value', async () => {
    const config = pgqd.writeConfig('badperiod', { base_connstr: base, ticker_period: 'often' });
    const result = await pgqd.run([config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\[pgqd\] ticker_period = "often" is not a period in seconds/);
  });

  it('unreadable or missing file', async () => {
    const missing = path.join(pgqd.dir, 'missing.ini');
    expect(await pgqd.run([missing])).toMatchObject({
      code: 1,
      stderr: `pgqd: error: cannot read config file ${missing}: ENOENT`,
    });
    if (process.getuid?.() !== 0) {
      const locked = pgqd.writeConfig('locked', {});
      chmodSync(locked, 0);
      expect((await pgqd.run([locked])).stderr).toMatch(/EACCES/);
    }
  });
});

describe('daemon mode, pidfile and signals', () => {
  it('-d starts in the background with a pidfile; -r reloads (SIGHUP); -s stops (SIGINT)', async () => {
    const { config, pid } = await startDaemon('d1');
    expect(await pgqd.run([config, '-r'])).toMatchObject({ code: 0, stdout: 'SIGHUP sent' });
    await poll(
      async () => logOf('d1'),
      (log) => /Got SIGHUP, re-reading config/.test(log),
    );
    expect(await pgqd.run([config, '-s'])).toMatchObject({ code: 0, stdout: 'SIGINT sent' });
    await gone(pid);
    expect(logOf('d1')).toMatch(/INFO Got SIGINT, stopping after the current step/);
    expect(logOf('d1')).toMatch(/INFO pgqd stopped/);
    expect(existsSync(path.join(pgqd.dir, 'd1.pid'))).toBe(false);
  });

  it('a live pidfile refuses a second daemon; -k kills (SIGTERM)', async () => {
    const { config, pid } = await startDaemon('d2');
    const second = await pgqd.run([config, '-d']);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `pgqd: error: Pidfile exists, another process running? (${path.join(pgqd.dir, 'd2.pid')}: pid ${pid})`,
    );
    expect(readPidfile(path.join(pgqd.dir, 'd2.pid'))).toBe(pid);
    expect(await pgqd.run([config, '-k'])).toMatchObject({ code: 0, stdout: 'SIGTERM sent' });
    await gone(pid);
    expect(logOf('d2')).toMatch(/Got SIGTERM, stopping at once/);
    expect(existsSync(path.join(pgqd.dir, 'd2.pid'))).toBe(false);
  });

  it('replaces a stale pidfile of a dead process', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(path.join(pgqd.dir, 'd3.pid'), `${dead.stdout.toString()}\n`);
    const { config, pid } = await startDaemon('d3');
    expect(pid).not.toBe(Number(dead.stdout.toString()));
    expect(await pgqd.run([config, '-s'])).toMatchObject({ code: 0 });
    await gone(pid);
  });

  it('SIGHUP applies new periods and a bad reload keeps the old config', async () => {
    const config = daemonConfig('fg', { stats_period: 60 });
    const proc = pgqd.start([config]);
    await proc.waitFor(/pgq 3\.5 found/);
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('stats_period = 60', 'stats_period = 0.2'),
    );
    proc.signal('SIGHUP');
    await proc.waitFor(/\{ticks: \d+, maint: \d+, retry: \d+, errors: \d+\}/);
    writeFileSync(config, `${readFileSync(config, 'utf8')}bogus = 1\n`);
    proc.signal('SIGHUP');
    await proc.waitFor(/ERROR reload failed, keeping the old config: .*unknown key "bogus"/);
    proc.signal('SIGINT');
    expect(await proc.exited).toBe(0);
  });

  it('--log-format json writes one JSON object per line', async () => {
    const config = daemonConfig('json');
    const proc = pgqd.start([config, '--log-format', 'json', '-v']);
    await proc.waitFor(/pgq 3\.5 found/);
    proc.signal('SIGINT');
    expect(await proc.exited).toBe(0);
    const records = logOf('json')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records.find((r) => /pgq 3\.5 found/.test(r.msg))).toMatchObject({
      level: 30,
      db: db.name,
      host: `${db.cluster.host}:${db.cluster.port}`,
    });
    expect(records.some((r) => r.level === 20)).toBe(true);
  });

  it('syslog = 1 sends the log to syslog under syslog_ident and syslog_facility', async () => {
    const receiver = await startSyslogReceiver();
    try {
      const config = daemonConfig('syslog', {
        syslog: 1,
        syslog_ident: 'pgqd-t',
        syslog_facility: 'local0',
      });
      const proc = pgqd.start([config], { SKYTOOLS_SYSLOG_SOCKET: receiver.socket });
      await proc.waitFor(/pgq 3\.5 found/);
      // local0 = 16: info = 16*8+6 = 134.
      expect(await receiver.waitFor(/pgq 3\.5 found/)).toMatch(/^<134>.*pgqd-t\[\d+\]: INFO /);
      proc.signal('SIGINT');
      expect(await proc.exited).toBe(0);
    } finally {
      receiver.close();
    }
  });

  it('an unknown syslog_facility is a config error', async () => {
    const config = daemonConfig('badfacility', { syslog: 1, syslog_facility: 'local9' });
    const result = await pgqd.run([config]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/syslog_facility/);
  });
});
