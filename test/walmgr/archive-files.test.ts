/**
 * xarchive and xrestore on their own (no server needed: the archive is plain files): the
 * durable copy with its checksum, the same segment twice, a conflicting one, gzip, a damaged
 * archived file, and xrestore's waiting, PAUSE and STOP behaviour in standby mode.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { until } from '../harness/until.js';
import { useWalmgrRun, walmgrBin } from './walmgr-run.js';

// Each test starts a few node processes: room for a loaded machine.
vi.setConfig({ testTimeout: 180_000 });

const run = useWalmgrRun();
const skytoolsBin = path.resolve(import.meta.dirname, '../../bin/skytools.js');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function segment(name: string, data = randomBytes(64 * 1024)): { file: string; data: Buffer } {
  const dir = path.join(run.dir, 'pg_wal');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), data);
  return { file: `pg_wal/${name}`, data };
}

describe('xarchive', () => {
  const archive = path.join(run.dir, 'plain', 'logs.complete');
  const ini = run.ini('plain', { walmgr_data: path.join(run.dir, 'plain') });

  test('stores the segment with its sha256 and leaves no temporary file', async () => {
    const { file, data } = segment('000000010000000000000001');
    const result = await run.walmgr([ini, 'xarchive', file, '000000010000000000000001']);
    expect(result.stderr).toMatch(/archived 000000010000000000000001/);
    expect(result.stderr).toMatch(/\{count: 1, duration: \d+\.\d+\}/);
    expect(result.code).toBe(0);
    expect(readFileSync(path.join(archive, '000000010000000000000001'))).toEqual(data);
    expect(readFileSync(path.join(archive, '000000010000000000000001.sha256'), 'utf8')).toBe(
      `${sha256(data)}  000000010000000000000001\n`,
    );
    expect(readdirSync(archive).sort()).toEqual([
      '000000010000000000000001',
      '000000010000000000000001.sha256',
    ]);
  });

  test('the same segment again with the same bytes is a success', async () => {
    const result = await run.walmgr([
      ini,
      'xarchive',
      'pg_wal/000000010000000000000001',
      '000000010000000000000001',
    ]);
    expect(result.stderr).toContain('already archived with the same content');
    expect(result.code).toBe(0);
  });

  test('the same name with other bytes is refused, naming both files', async () => {
    const before = readFileSync(path.join(archive, '000000010000000000000001'));
    const { file } = segment('000000010000000000000001');
    const result = await run.walmgr([ini, 'xarchive', file, '000000010000000000000001']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `000000010000000000000001 is already archived as ${archive}/000000010000000000000001 with different content`,
    );
    expect(result.stderr).toContain(`than ${run.dir}/pg_wal/000000010000000000000001`);
    expect(readFileSync(path.join(archive, '000000010000000000000001'))).toEqual(before);
  });

  test('-n archives nothing', async () => {
    const { file } = segment('000000010000000000000002');
    const result = await run.walmgr(['-n', ini, 'xarchive', file, '000000010000000000000002']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('would archive');
    expect(existsSync(path.join(archive, '000000010000000000000002'))).toBe(false);
  });

  test('bad input: a name that is no WAL file, a missing source, an unwritable archive', async () => {
    const badName = await run.walmgr([ini, 'xarchive', 'pg_wal/x', '../etc/passwd']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('"../etc/passwd" is not a WAL file name');
    const missing = await run.walmgr([
      ini,
      'xarchive',
      'pg_wal/000000010000000000000009',
      '000000010000000000000009',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `source file ${run.dir}/pg_wal/000000010000000000000009 does not exist`,
    );
    writeFileSync(path.join(run.dir, 'not-a-dir'), '');
    const blocked = run.ini('blocked', { completed_wals: path.join(run.dir, 'not-a-dir', 'wal') });
    const { file } = segment('000000010000000000000003');
    const failed = await run.walmgr([blocked, 'xarchive', file, '000000010000000000000003']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/ERROR .*not-a-dir/);
  });
});

describe('gzip archive and xrestore', () => {
  const walmgrData = path.join(run.dir, 'gz');
  const archive = path.join(walmgrData, 'logs.complete');
  const ini = run.ini('gz', { walmgr_data: walmgrData, archive_compression: 'gzip' });
  const data = Buffer.alloc(256 * 1024, 7);

  test('gzip stores NAME.gz; xrestore gives back the exact bytes', async () => {
    const { file } = segment('000000010000000000000004', data);
    expect((await run.walmgr([ini, 'xarchive', file, '000000010000000000000004'])).code).toBe(0);
    expect(existsSync(path.join(archive, '000000010000000000000004.gz'))).toBe(true);
    expect(existsSync(path.join(archive, '000000010000000000000004'))).toBe(false);
    const restored = await run.walmgr([
      ini,
      'xrestore',
      '000000010000000000000004',
      'pg_wal/RECOVERYXLOG',
      '000000010000000000000001',
    ]);
    expect(restored.code).toBe(0);
    expect(readFileSync(path.join(run.dir, 'pg_wal', 'RECOVERYXLOG'))).toEqual(data);
  });

  test('a missing file in archive recovery fails at once (the end of the archive)', async () => {
    const result = await run.walmgr([ini, 'xrestore', '000000010000000000000005', 'pg_wal/X']);
    expect(result.code).toBe(1);
    expect(existsSync(path.join(run.dir, 'pg_wal', 'X'))).toBe(false);
  });

  test('a damaged archived file is refused, naming it', async () => {
    const { file } = segment('000000010000000000000006');
    expect((await run.walmgr([ini, 'xarchive', file, '000000010000000000000006'])).code).toBe(0);
    const { gzipSync } = await import('node:zlib');
    writeFileSync(path.join(archive, '000000010000000000000006.gz'), gzipSync(randomBytes(100)));
    const result = await run.walmgr([ini, 'xrestore', '000000010000000000000006', 'pg_wal/Y']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${archive}/000000010000000000000006.gz is damaged`);
    expect(existsSync(path.join(run.dir, 'pg_wal', 'Y'))).toBe(false);
  });
});

describe('xrestore and the control files', () => {
  const walmgrData = path.join(run.dir, 'standby');
  const archive = path.join(walmgrData, 'logs.complete');
  const standbyDir = path.join(run.dir, 'standby-data');
  const recoveryDir = path.join(run.dir, 'recovery-data');
  const ini = run.ini('standby', { walmgr_data: walmgrData });
  for (const dir of [standbyDir, recoveryDir])
    mkdirSync(path.join(dir, 'pg_wal'), { recursive: true });
  writeFileSync(path.join(standbyDir, 'standby.signal'), '');
  writeFileSync(path.join(recoveryDir, 'recovery.signal'), '');

  /** xrestore as the server runs it: in the data directory, in the background. */
  function xrestore(dataDir: string, name: string) {
    rmSync(path.join(dataDir, 'pg_wal', 'RECOVERYXLOG'), { force: true });
    const child = spawn(
      process.execPath,
      [walmgrBin, ini, 'xrestore', name, 'pg_wal/RECOVERYXLOG'],
      {
        cwd: dataDir,
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exit = new Promise<number | null>((resolve) => child.once('close', resolve));
    const restored = () => existsSync(path.join(dataDir, 'pg_wal', 'RECOVERYXLOG'));
    return { exit, stderr: () => stderr, restored };
  }

  test('a standby asking for a segment not archived yet hears "missing" at once (the server asks again)', async () => {
    expect(await xrestore(standbyDir, '000000010000000000000010').exit).toBe(1);
    const { file } = segment('000000010000000000000010');
    expect((await run.walmgr([ini, 'xarchive', file, '000000010000000000000010'])).code).toBe(0);
    const again = xrestore(standbyDir, '000000010000000000000010');
    expect(await again.exit).toBe(0);
    expect(again.restored()).toBe(true);
    expect(existsSync(path.join(archive, 'PROGRESS'))).toBe(true);
  });

  test('PAUSE holds segments back from a standby until continue', async () => {
    expect((await run.walmgr([ini, 'pause'])).code).toBe(0);
    const held = xrestore(standbyDir, '000000010000000000000010');
    expect(await held.exit).toBe(1);
    expect(held.restored()).toBe(false);
    expect((await run.walmgr([ini, 'continue'])).code).toBe(0);
    const given = xrestore(standbyDir, '000000010000000000000010');
    expect(await given.exit).toBe(0);
    expect(given.restored()).toBe(true);
  });

  test('PAUSE makes archive recovery wait (a missing file would end it) until continue', async () => {
    expect((await run.walmgr([ini, 'pause'])).code).toBe(0);
    const waiting = xrestore(recoveryDir, '000000010000000000000010');
    await until(
      () => `the pause message in: ${waiting.stderr()}`,
      async () => waiting.stderr(),
      (text) => text.includes('PAUSE exists: waiting'),
    );
    expect(waiting.restored()).toBe(false);
    expect((await run.walmgr([ini, 'continue'])).code).toBe(0);
    expect(await waiting.exit).toBe(0);
    expect(waiting.restored()).toBe(true);
  });

  test('after boot (STOP) the partial segment is handed over if there is one', async () => {
    expect(await xrestore(standbyDir, '000000010000000000000013').exit).toBe(1);
    expect((await run.walmgr([ini, 'boot'])).code).toBe(0);
    expect(existsSync(path.join(archive, 'STOP'))).toBe(true);
    expect(await xrestore(standbyDir, '000000010000000000000013').exit).toBe(1);
    const partials = path.join(walmgrData, 'logs.partial');
    mkdirSync(partials, { recursive: true });
    writeFileSync(path.join(partials, '000000010000000000000013'), 'partial bytes');
    const partial = xrestore(standbyDir, '000000010000000000000013');
    expect(await partial.exit).toBe(0);
    expect(readFileSync(path.join(standbyDir, 'pg_wal', 'RECOVERYXLOG'), 'utf8')).toBe(
      'partial bytes',
    );
  });

  test('a missing .history file fails', async () => {
    expect(await xrestore(standbyDir, '00000002.history').exit).toBe(1);
  });
});

describe('settings', () => {
  test('upstream keys are read, unknown ones give one warning line with file and line', async () => {
    const ini = run.ini('typo', { walmgr_data: path.join(run.dir, 'typo'), keep_backup: 2 });
    const result = await run.walmgr([ini, 'listbackups']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `${ini}:3: [walmgr] unknown key "keep_backup" (did you mean "keep_backups"?) ignored`,
    );
  });

  test('a bad value and a remote path are one clear line each', async () => {
    const bad = run.ini('bad', { archive_compression: 'lz4' });
    const result = await run.walmgr([bad, 'listbackups']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `walmgr: error: ${bad}:2: [walmgr] archive_compression = "lz4" is not one of: none, gzip`,
    );
    const remote = run.ini('remote', { completed_wals: 'otherhost:/var/lib/wal' });
    const refused = await run.walmgr([remote, 'listbackups']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "the archive is on otherhost: slave_config must name the slave's INI file there",
    );
    const data = run.ini('remote-data', { slave_data: 'otherhost:/var/lib/data' });
    const notArchive = await run.walmgr([data, 'listbackups']);
    expect(notArchive.code).toBe(1);
    expect(notArchive.stderr).toContain(
      'slave_data = "otherhost:/var/lib/data" names another host: only the archive paths may be remote',
    );
  });

  test('an unknown command names the commands', async () => {
    const ini = run.ini('cmd', { walmgr_data: path.join(run.dir, 'cmd') });
    const result = await run.walmgr([ini, 'bogus']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown command "bogus"; commands: setup, stop, backup');
  });
  test('skytools walmgr runs the same command; --version and --help answer', async () => {
    const ini = run.ini('via', { walmgr_data: path.join(run.dir, 'via') });
    const via = spawnSync(process.execPath, [skytoolsBin, 'walmgr', ini, 'listbackups'], {
      encoding: 'utf8',
    });
    expect(via.status).toBe(0);
    expect(via.stdout).toBe('set\tstart time\tlabel\tfirst WAL\tstop WAL\n');
    const version = await run.walmgr(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = await run.walmgr(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('xarchive SRC NAME');
    expect(help.stdout).toContain('--not-really');
  });
  test('cleanup removes walmgr_data, the kept data directories and the config file; -n only says so', async () => {
    const data = path.join(run.dir, 'gone');
    const slaveData = path.join(run.dir, 'gone-slave', 'data');
    mkdirSync(path.join(data, 'logs.complete'), { recursive: true });
    mkdirSync(`${slaveData}.0`, { recursive: true });
    mkdirSync(slaveData, { recursive: true });
    const ini = run.ini('gone', { walmgr_data: data, slave_data: slaveData });
    const dry = await run.walmgr(['-n', ini, 'cleanup']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain(`would remove ${data}`);
    expect(dry.stderr).toContain(`would remove ${slaveData}.0`);
    expect(existsSync(ini)).toBe(true);
    const done = await run.walmgr([ini, 'cleanup']);
    expect(done.code).toBe(0);
    expect([existsSync(data), existsSync(`${slaveData}.0`), existsSync(ini)]).toEqual([
      false,
      false,
      false,
    ]);
    expect(existsSync(slaveData)).toBe(true);
  });
});

describe('xpartialsync and periodic', () => {
  const walmgrData = path.join(run.dir, 'partial');
  const ini = run.ini('partial', { walmgr_data: walmgrData });
  const partial = path.join(walmgrData, 'logs.partial', '000000010000000000000021');
  const xpartialsync = (args: string[], input: Buffer) =>
    spawnSync(process.execPath, [walmgrBin, ini, 'xpartialsync', ...args], {
      input,
      encoding: 'utf8',
    });

  test('xpartialsync writes stdin at the offset and pads the file to the segment size', () => {
    const first = randomBytes(1000);
    const start = xpartialsync(['000000010000000000000021', '0', '1000'], first);
    expect(start.stderr).toContain('wrote 1000 bytes at 0 of');
    expect(start.status).toBe(0);
    const second = randomBytes(500);
    expect(xpartialsync(['000000010000000000000021', '1000', '500'], second).status).toBe(0);
    const bytes = readFileSync(partial);
    expect(bytes.length).toBe(16 * 1024 * 1024);
    expect(bytes.subarray(0, 1500)).toEqual(Buffer.concat([first, second]));
    expect(bytes.subarray(1500).every((byte) => byte === 0)).toBe(true);
  });

  test('xpartialsync bad input: a short stdin, no file to continue, a range past the segment', () => {
    const short = xpartialsync(['000000010000000000000021', '0', '10'], randomBytes(4));
    expect(short.status).toBe(1);
    expect(short.stderr).toContain('xpartialsync: 4 bytes on stdin, 10 announced');
    const noFile = xpartialsync(['000000010000000000000022', '8', '1'], randomBytes(1));
    expect(noFile.status).toBe(1);
    expect(noFile.stderr).toContain('a partial segment starts at offset 0');
    const past = xpartialsync(
      ['000000010000000000000021', String(16 * 1024 * 1024), '1'],
      randomBytes(1),
    );
    expect(past.status).toBe(1);
    expect(past.stderr).toContain('do not fit a 16777216-byte segment');
    expect(readFileSync(partial).length).toBe(16 * 1024 * 1024);
  });

  test('periodic runs periodic_command once per command_interval; xarchive calls it', async () => {
    const masterData = path.join(run.dir, 'periodic-master');
    mkdirSync(path.join(masterData, 'pg_wal'), { recursive: true });
    const marks = path.join(run.dir, 'periodic-marks');
    const periodicIni = run.ini('periodic', {
      walmgr_data: path.join(run.dir, 'periodic'),
      master_data: masterData,
      periodic_command: `echo ran >> ${marks}`,
      command_interval: '1h',
    });
    const first = await run.walmgr([periodicIni, 'periodic']);
    expect(first.stderr).toContain(`running periodic_command: echo ran >> ${marks}`);
    expect(first.code).toBe(0);
    const second = await run.walmgr([periodicIni, 'periodic']);
    expect(second.stderr).toContain('periodic_command is not due yet');
    expect(readFileSync(marks, 'utf8')).toBe('ran\n');
    // Due again (an old stamp): the next xarchive runs it.
    utimesSync(path.join(masterData, '.walshipping.periodic'), 0, 0);
    writeFileSync(path.join(masterData, 'pg_wal', '000000010000000000000031'), randomBytes(1024));
    const archived = spawnSync(
      process.execPath,
      [
        walmgrBin,
        periodicIni,
        'xarchive',
        'pg_wal/000000010000000000000031',
        '000000010000000000000031',
      ],
      { cwd: masterData, encoding: 'utf8' },
    );
    expect(archived.status).toBe(0);
    expect(readFileSync(marks, 'utf8')).toBe('ran\nran\n');
  });
});

describe('--init-master and --init-slave', () => {
  test('write a first INI from the data directory; refuse ssh options and an existing file', async () => {
    const pgdata = path.join(run.dir, 'init-data');
    mkdirSync(pgdata, { recursive: true });
    writeFileSync(path.join(pgdata, 'PG_VERSION'), '15\n');
    writeFileSync(path.join(pgdata, 'postmaster.pid'), `4242\n${pgdata}\n1700000000\n5477\n/tmp\n`);
    const conf = path.join(run.dir, 'init-conf');
    const master = await run.walmgr([
      '--init-master',
      `--pgdata=${pgdata}`,
      `--config-dir=${conf}`,
      `--walmgr-data=${path.join(run.dir, 'init-ws')}`,
      '--slave=localhost',
    ]);
    expect(master.stderr).toContain(`wrote ${conf}/wal-master.ini`);
    expect(master.code).toBe(0);
    const text = readFileSync(path.join(conf, 'wal-master.ini'), 'utf8');
    expect(text).toContain('master_db = host=/tmp port=5477 dbname=postgres\n');
    expect(text).toContain(`master_data = ${pgdata}\n`);
    const slave = await run.walmgr([
      '--init-slave',
      `--pgdata=${pgdata}`,
      `--config-dir=${conf}`,
      '--primary-conninfo=host=127.0.0.1 port=5477 user=replicator',
    ]);
    expect(slave.code).toBe(0);
    const slaveText = readFileSync(path.join(conf, 'wal-slave.ini'), 'utf8');
    expect(slaveText).toContain('primary_conninfo = host=127.0.0.1 port=5477 user=replicator\n');
    expect(slaveText).toMatch(/^slave_start_cmd = \S*pg_ctl -D /m);
    // What was written reads back without a warning.
    const list = await run.walmgr([path.join(conf, 'wal-slave.ini'), 'listbackups']);
    expect(list.code).toBe(0);
    expect(list.stderr).toBe('');
    const again = await run.walmgr(['--init-slave', `--pgdata=${pgdata}`, `--config-dir=${conf}`]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${conf}/wal-slave.ini exists already`);
    const ssh = await run.walmgr(['--init-master', `--pgdata=${pgdata}`, '--ssh-keygen']);
    expect(ssh.code).toBe(1);
    expect(ssh.stderr).toContain('--ssh-keygen: ssh keys and passwords are for remote slaves');
  });
});
