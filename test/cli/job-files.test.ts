/**
 * A logfile or pidfile in a directory that does not exist: every job stops with one line
 * naming the file and why, exit 1, in the foreground and with -d; no stack, nothing left behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const missing = path.join(dir, 'no-such-dir');
// Nothing here connects: the files are opened before any database is.
const conn = 'host=127.0.0.1 port=1 dbname=x';

const jobs = [
  { bin: 'pgqd', section: 'pgqd', keys: `base_connstr = host=127.0.0.1 port=1\n`, args: [] },
  {
    bin: 'simple_consumer',
    section: 'simple_consumer',
    keys: `src_db = ${conn}\nqueue_name = q\ndst_query = select 1\n`,
    args: [],
  },
  {
    bin: 'simple_local_consumer',
    section: 'simple_local_consumer',
    keys: `src_db = ${conn}\nqueue_name = q\ndst_query = select 1\nlocal_tracking_file = ${dir}/t.tick\n`,
    args: [],
  },
  {
    bin: 'setadm',
    section: 'cascade_admin',
    keys: `node_db = ${conn}\nqueue_name = q\n`,
    args: ['worker'],
  },
];

function run(bin: string, args: string[]) {
  return spawnSync(process.execPath, [path.join(root, 'bin', `${bin}.js`), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('a logfile or pidfile in a missing directory', () => {
  for (const job of jobs) {
    const ini = (name: string, extra: string) => {
      const file = path.join(dir, `${job.bin}-${name}.ini`);
      writeFileSync(file, `[${job.section}]\n${job.keys}${extra}`);
      return file;
    };

    it(`${job.bin}: logfile, in the foreground and with -d`, () => {
      const logfile = path.join(missing, 'job.log');
      const pidfile = path.join(dir, `${job.bin}.pid`);
      const file = ini('log', `logfile = ${logfile}\npidfile = ${pidfile}\n`);
      for (const daemon of [[], ['-d']]) {
        const result = run(job.bin, [file, ...daemon, ...job.args]);
        expect(result.stderr).toBe(
          `${job.bin}: error: cannot open logfile ${logfile}: directory ${missing} does not exist\n`,
        );
        expect(result.stdout).toBe('');
        expect(result.status).toBe(1);
        expect(existsSync(pidfile)).toBe(false);
      }
    });

    it(`${job.bin}: pidfile`, () => {
      const pidfile = path.join(missing, 'job.pid');
      const result = run(job.bin, [ini('pid', `pidfile = ${pidfile}\n`), ...job.args]);
      expect(result.stderr).toBe(
        `${job.bin}: error: cannot write pidfile ${pidfile}: directory ${missing} does not exist\n`,
      );
      expect(result.status).toBe(1);
    });
  }

  it('leaves no temporary files behind', () => {
    expect(readdirSync(dir).filter((name) => /\.tmp$|\.pid$/.test(name))).toEqual([]);
  });
});
