import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SkytoolsError } from '../../src/errors.js';
import {
  acquirePidfile,
  processAlive,
  readPidfile,
  signalPidfile,
} from '../../src/script/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-pidfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited: certainly not alive. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  const pid = Number(result.stdout.toString());
  expect(processAlive(pid)).toBe(false);
  return pid;
}

describe('pidfile', () => {
  it('writes our pid and removes it on release', () => {
    const file = path.join(dir, 'a.pid');
    const handle = acquirePidfile(file);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    expect(readPidfile(file)).toBe(process.pid);
    handle.release();
    expect(readPidfile(file)).toBeNull();
  });

  it('replaces a stale pidfile of a dead process, and one with garbage in it', () => {
    const file = path.join(dir, 'stale.pid');
    writeFileSync(file, `${deadPid()}\n`);
    const handle = acquirePidfile(file);
    expect(readPidfile(file)).toBe(process.pid);
    handle.release();
    writeFileSync(file, 'not a pid');
    acquirePidfile(file).release();
  });

  it('refuses when the process of the pidfile is alive, and leaves its file alone', () => {
    const file = path.join(dir, 'live.pid');
    writeFileSync(file, `${process.ppid}\n`);
    let error: unknown;
    try {
      acquirePidfile(file, process.pid);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SkytoolsError);
    expect((error as SkytoolsError).code).toBe('PIDFILE_BUSY');
    expect((error as Error).message).toBe(
      `Pidfile exists, another process running? (${file}: pid ${process.ppid})`,
    );
    expect(readPidfile(file)).toBe(process.ppid);
  });

  it('release does not remove a pidfile a successor wrote', () => {
    const file = path.join(dir, 'successor.pid');
    const handle = acquirePidfile(file);
    writeFileSync(file, `${process.ppid}\n`);
    handle.release();
    expect(readPidfile(file)).toBe(process.ppid);
  });

  it('signals the process of a pidfile, or says it is not running', () => {
    const file = path.join(dir, 'signal.pid');
    expect(signalPidfile(file, 'SIGHUP')).toBe('not-running');
    writeFileSync(file, `${deadPid()}\n`);
    expect(signalPidfile(file, 'SIGHUP')).toBe('not-running');
    const got = new Promise<string>((resolve) => process.once('SIGUSR2', () => resolve('got')));
    writeFileSync(file, `${process.pid}\n`);
    expect(signalPidfile(file, 'SIGUSR2')).toBe('sent');
    return expect(got).resolves.toBe('got');
  });

  it('reports an unwritable pidfile location', () => {
    expect(() => acquirePidfile(path.join(dir, 'no/such/dir/x.pid'))).toThrow(
      /cannot write pidfile .*x\.pid/,
    );
  });
});
