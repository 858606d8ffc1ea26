/**
 * The worker's small pure pieces: txid snapshot visibility (which events a copy holds), the
 * command line a worker starts its copies with, EXECUTE attributes as the event carries
 * them, and when a copy merges ticks.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeExecuteAttrs,
  parseExecuteAttrs,
  scriptAttrs,
} from '../../src/londiste/execute/attrs.js';
import { splitStatements } from '../../src/londiste/execute/statements.js';
import { loadLondisteSettings } from '../../src/londiste/settings.js';
import { copyRateArg, siblingCommandLine } from '../../src/londiste/worker/copy-launcher.js';
import { CopyReplay } from '../../src/londiste/worker/copy-replay.js';
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

describe('copy_mode and --copy-rate of in-worker copies', () => {
  const settings = (overrides: Record<string, string> = {}) =>
    loadLondisteSettings(undefined, { db: 'dbname=x', queue: 'q' }, overrides);

  it('runs each copy in a process of its own unless copy_mode = worker', () => {
    expect(settings().copyMode).toBe('process');
    expect(settings({ copy_mode: 'Worker' }).copyMode).toBe('worker');
  });

  it('keeps a spare copy process unless copy_prestart is off; refuses a value not boolean', () => {
    expect(settings().copyPrestart).toBe(true);
    expect(settings({ copy_prestart: '0' }).copyPrestart).toBe(false);
    expect(() => settings({ copy_prestart: 'maybe' })).toThrow(/copy_prestart/);
  });

  it('refuses another copy_mode in one line naming the key', () => {
    expect(() => settings({ copy_mode: 'thread' })).toThrow(
      /copy_mode must be worker or process, got "thread"/,
    );
  });

  it("reads the worker's --copy-rate for its copy tasks", () => {
    expect(copyRateArg(['c.ini', '--copy-rate', '500'])).toBe(500);
    expect(copyRateArg(['c.ini', '--copy-rate=250.5'])).toBe(250.5);
    expect(copyRateArg(['c.ini', '-v'])).toBeUndefined();
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

describe('splitStatements', () => {
  it('splits at semicolons outside strings, names, dollar quotes, comments and atomic bodies', () => {
    const script = [
      '-- leading comment; not a statement',
      "insert into t values ('a;b', E'c\\';d');",
      'create table "x;y" (id int); /* block; /* nested; */ still */',
      'create function f() returns int language plpgsql as $body$ begin return 1; end $body$;',
      'create function g() returns int begin atomic select case when true then 1 end; end;',
      'select $1::int',
    ].join('\n');
    expect(splitStatements(script).map((s) => [s.line, s.text.slice(0, 20)])).toEqual([
      [2, 'insert into t values'],
      [3, 'create table "x;y" ('],
      [4, 'create function f() '],
      [5, 'create function g() '],
      [6, 'select $1::int'],
    ]);
  });

  it('gives nothing for blanks and comments only', () => {
    expect(splitStatements('  -- nothing\n/* at all */ ;\n')).toEqual([]);
  });
});

describe('scriptAttrs', () => {
  it('reads the --*-- lines at the top, with continuation after a trailing comma', () => {
    const attrs = scriptAttrs(
      '--*-- Local-Table: public.a,\n--*--   public.b\n\n-- note\n--*-- need-function: f(2)\nselect 1;\n--*-- Need-Table: later\n',
      'x.sql',
    );
    expect([...attrs]).toEqual([
      ['local-table', ['public.a', 'public.b']],
      ['need-function', ['f(2)']],
    ]);
    expect(parseExecuteAttrs(encodeExecuteAttrs(attrs))).toEqual(attrs);
  });

  it('names the line of an unknown attribute', () => {
    expect(() => scriptAttrs('\n--*-- Need-Everything: x\n', 'y.sql')).toThrow(
      'y.sql line 2: unknown attribute "Need-Everything: x"',
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
