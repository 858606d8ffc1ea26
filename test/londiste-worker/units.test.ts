/**
 * The worker's small pure pieces: txid snapshot visibility (which events a copy holds), the
 * command line a worker starts its copies with, EXECUTE attributes as the event carries
 * them, and when a copy merges ticks.
 */
import { describe, expect, it } from 'vitest';
import { siblingCommandLine } from '../../src/londiste/worker/copy-launcher.js';
import { CopyReplay } from '../../src/londiste/worker/copy-replay.js';
import { parseExecuteAttrs } from '../../src/londiste/worker/execute.js';
import { TxidSnapshot } from '../../src/londiste/worker/snapshot.js';
import { silentLogger } from '../../src/pgq/logger.js';

describe('TxidSnapshot', () => {
  it('sees what ended before it, not what ran or came later', () => {
    const s = new TxidSnapshot('100:110:102,105');
    expect(['99', '100', '101', '103', '109'].map((t) => s.visible(t))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['102', '105', '110', '111'].map((t) => s.visible(t))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(new TxidSnapshot('5:5:').visible('4')).toBe(true);
  });

  it('refuses a text that is no snapshot', () => {
    expect(() => new TxidSnapshot('1:2:x')).toThrow('not a txid snapshot: "1:2:x"');
  });
});

describe('siblingCommandLine', () => {
  it("keeps the worker's config and switches, drops the command and daemon switches", () => {
    const argv = ['node', '/p/bin/londiste.js', '-v', 'conf.ini', '--set', 'a=1', 'worker', '-d'];
    expect(siblingCommandLine([...argv, '--log-format', 'json'])).toEqual({
      script: '/p/bin/londiste.js',
      args: ['-v', 'conf.ini', '--set', 'a=1', '--log-format', 'json'],
    });
    expect(
      siblingCommandLine(['node', '/p/bin/skytools.js', 'londiste', 'c.ini', 'worker']),
    ).toEqual({ script: '/p/bin/skytools.js', args: ['londiste', 'c.ini'] });
  });

  it('is null in a program that is not the bin (no copy started by accident)', () => {
    expect(siblingCommandLine(['node', '/p/node_modules/vitest/vitest.mjs', 'run'])).toBeNull();
  });
});

describe('parseExecuteAttrs', () => {
  it('takes keys in any case, values as lists', () => {
    const attrs = parseExecuteAttrs('Local-Table=public.a,public.b&need-function=f(2)');
    expect([...attrs]).toEqual([
      ['local-table', ['public.a', 'public.b']],
      ['need-function', ['f(2)']],
    ]);
    expect([...parseExecuteAttrs(null)]).toEqual([]);
  });

  it('refuses an unknown attribute', () => {
    expect(() => parseExecuteAttrs('Need-Thing=x')).toThrow(
      'EXECUTE: unknown attribute Need-Thing',
    );
  });
});

describe('CopyReplay.helperMergeEvents', () => {
  it('merges waiting ticks only once its data is in (catching-up), one tick otherwise', () => {
    const replay = new CopyReplay(
      'q',
      'public.t',
      silentLogger,
      () => new AbortController().signal,
      () => {},
    );
    const merge = replay.hooks().helperMergeEvents as () => number;
    // A copy started again may be past wanna-sync: one tick until a batch shows its state.
    expect(merge()).toBe(0);
    replay.copied();
    expect(merge()).toBeGreaterThan(1000);
  });
});
