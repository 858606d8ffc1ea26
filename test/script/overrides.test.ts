/**
 * `--set KEY=VALUE`, one parser for every tool: a bad pair fails before anything runs, and
 * `--ini` prints the sample with the pairs merged in, in setadm as in the consumer jobs.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SkytoolsError } from '../../src/errors.js';
import { parseOverrides, withOverrides } from '../../src/script/overrides.js';

const run = promisify(execFile);

async function bin(name: string, args: string[]) {
  const script = path.resolve(import.meta.dirname, `../../bin/${name}.js`);
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('--set', () => {
  it('splits at the first =, trims the key, keeps the value as given', () => {
    expect(parseOverrides([' a =1', 'b=x=y', 'c='])).toEqual({ a: '1', b: 'x=y', c: '' });
  });

  it('refuses a pair without a key or =, naming it', () => {
    for (const pair of ['novalue', '=1']) {
      let caught: unknown;
      try {
        parseOverrides([pair]);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SkytoolsError);
      expect(caught).toMatchObject({
        code: 'BAD_OPTION',
        message: `--set needs KEY=VALUE, not "${pair}"`,
      });
    }
  });

  it('--ini: an override replaces its line, commented or not, or is appended', () => {
    const sample = '[x]\nqueue_name = q\n#loop_delay = 1\n';
    expect(withOverrides(sample, { loop_delay: '0.5', queue_name: 'r', other: 'z' })).toBe(
      '[x]\nqueue_name = r\nloop_delay = 0.5\nother = z\n',
    );
  });

  it('setadm and simple_consumer parse it alike', async () => {
    for (const name of ['setadm', 'simple_consumer']) {
      const bad = await bin(name, ['--ini', '--set', 'novalue']);
      expect(bad).toMatchObject({
        code: 1,
        stderr: `${name}: error: --set needs KEY=VALUE, not "novalue"\n`,
      });
      const ini = await bin(name, ['--ini', '--set', 'queue_name=abc', '--set', 'x_key=1']);
      expect(ini.code).toBe(0);
      expect(ini.stdout.split('\n')).toContain('queue_name = abc');
      expect(ini.stdout.endsWith('x_key = 1\n')).toBe(true);
    }
  });
});
