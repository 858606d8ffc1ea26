import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Config, ConfigError } from '../../src/config/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('INI parsing (ConfigParser rules)', () => {
  it('reads sections, comments, both separators, case-folded keys and continuation lines', () => {
    const cf = Config.fromText(
      [
        '# comment',
        '; another',
        '[other]',
        'x = 1',
        '[pgqd]',
        'Logfile = /tmp/a.log',
        'base_connstr: host=127.0.0.1',
        'database_list = a,',
        '   b ,c',
        '',
        'empty =',
      ].join('\n'),
      ['pgqd'],
    );
    expect(cf.get('logfile')).toBe('/tmp/a.log');
    expect(cf.get('LOGFILE')).toBe('/tmp/a.log');
    expect(cf.get('base_connstr')).toBe('host=127.0.0.1');
    expect(cf.getList('database_list')).toEqual(['a', 'b', 'c']);
    expect(cf.getList('empty')).toEqual([]);
    expect(cf.get('x', 'none')).toBe('none');
    expect(cf.ownKeys()).toEqual(['logfile', 'base_connstr', 'database_list', 'empty']);
  });

  it('takes the first section present, so upstream names with or without 3 work', () => {
    const cf = Config.fromText('[londiste3]\na = 1\n', ['londiste', 'londiste3']);
    expect(cf.section).toBe('londiste3');
  });

  it('defaults job_name to the file name and interpolates %(name)s with [DEFAULT]', () => {
    const file = write(
      'ticker_main.ini',
      [
        '[DEFAULT]',
        'logdir = /var/log/sky',
        '[pgqd]',
        'logfile = %(logdir)s/%(job_name)s.log',
        'pidfile = %(config_dir)s/%(service_name)s.pid',
        'pct = 100%%',
      ].join('\n'),
    );
    const cf = Config.load(file, ['pgqd']);
    expect(cf.get('job_name')).toBe('ticker_main');
    expect(cf.get('logfile')).toBe('/var/log/sky/ticker_main.log');
    expect(cf.get('pidfile')).toBe(`${dir}/pgqd.pid`);
    expect(cf.get('pct')).toBe('100%');
    expect(cf.get('logdir')).toBe('/var/log/sky');
    expect(cf.ownKeys()).not.toContain('logdir');
  });

  it('lets --set overrides win over the file, in interpolation too', () => {
    const cf = Config.fromText('[s]\na = 1\nb = %(a)s-x\n', ['s'], { overrides: { A: '9' } });
    expect(cf.get('a')).toBe('9');
    expect(cf.get('b')).toBe('9-x');
  });

  it('supports config_format = 2 with $-style key and section:key references', () => {
    const cf = Config.fromText(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: INI syntax, not a JS template
      '[db]\nhost = h1\n[s]\nconfig_format = 2\nname = n\ncs = host=${db:host} dbname=${name} $$x\n',
      ['s'],
    );
    expect(cf.get('cs')).toBe('host=h1 dbname=n $x');
  });

  it('reads %include files relative to the including file', () => {
    write('common.inc', 'ticker_period = 0.5\n');
    const file = write('inc.ini', '[pgqd]\n%include common.inc\n');
    // the included text continues the current section only when it starts one itself
    const included = write('inc2.ini', '[pgqd]\nlogfile = x\n%include part.inc\n');
    write('part.inc', '[pgqd]\nmaint_period = 7\n');
    expect(Config.load(included, ['pgqd']).getFloat('maint_period')).toBe(7);
    expect(() => Config.load(file, ['pgqd'])).toThrow(/key outside of any \[section\]/);
  });
});

describe('typed getters', () => {
  const cf = Config.fromText(
    [
      '[s]',
      'i = 42',
      'f = 0.25',
      'yes = On',
      'no = 0',
      'p1 = 1.5',
      'p2 = 500ms',
      'p3 = 2 min',
      'home = ~/x.log',
      'dash = -',
      'bad = forty',
    ].join('\n'),
    ['s'],
    { file: '/etc/sky/x.ini' },
  );

  it('parses int, float, bool, seconds and file values', () => {
    expect(cf.getInt('i')).toBe(42);
    expect(cf.getFloat('f')).toBe(0.25);
    expect(cf.getBool('yes')).toBe(true);
    expect(cf.getBool('no')).toBe(false);
    expect(cf.getSeconds('p1')).toBe(1.5);
    expect(cf.getSeconds('p2')).toBeCloseTo(0.5);
    expect(cf.getSeconds('p3')).toBe(120);
    expect(cf.getFile('home')).toBe(path.join(os.homedir(), 'x.log'));
    expect(cf.getFile('dash')).toBe('-');
    expect(cf.getInt('missing', 7)).toBe(7);
  });

  it('parses dicts and byte sizes', () => {
    const more = Config.fromText(
      '[s]\nmap = a:1, b , c: x y\nsize1 = 512\nsize2 = 2 B\nsize3 = 3K\nsize4 = 4 MB\nbadsize = 5 X\n',
      ['s'],
    );
    expect(more.getDict('map')).toEqual({ a: '1', b: 'b', c: 'x y' });
    expect(more.getDict('none', {})).toEqual({});
    expect(more.getBytes('size1')).toBe(512);
    expect(more.getBytes('size2')).toBe(2);
    expect(more.getBytes('size3')).toBe(3072);
    expect(more.getBytes('size4')).toBe(4 * 1024 * 1024);
    expect(thrown(() => more.getBytes('badsize')).message).toBe(
      '<string>:7: [s] badsize = "5 X" is not a size (e.g. 512, 10K, 4 MB)',
    );
  });

  it('names file, section and key in errors', () => {
    const bad = thrown(() => cf.getInt('bad'));
    expect(bad.message).toBe('/etc/sky/x.ini:11: [s] bad = "forty" is not an integer');
    expect(bad.context).toMatchObject({ section: 's', key: 'bad' });
    expect(thrown(() => cf.getBool('bad')).message).toMatch(/is not a boolean/);
    expect(thrown(() => cf.getSeconds('bad')).message).toMatch(/is not a period in seconds/);
    expect(thrown(() => cf.getFloat('bad')).message).toMatch(/is not a number/);
    expect(thrown(() => cf.get('nothere')).message).toBe(
      '/etc/sky/x.ini: [s] missing required key "nothere"',
    );
  });

  it('reports unknown keys of the main section', () => {
    expect(cf.unknownKeys(['i', 'f', 'yes', 'no', 'p1', 'p2', 'p3', 'home', 'dash'])).toEqual([
      'bad',
    ]);
  });
});

describe('bad files', () => {
  it('refuses an unreadable or missing file with its name', () => {
    const missing = path.join(dir, 'nope.ini');
    expect(thrown(() => Config.load(missing, ['pgqd'])).message).toBe(
      `cannot read config file ${missing}: ENOENT`,
    );
    expect(thrown(() => Config.load(dir, ['pgqd'])).message).toBe(
      `cannot read config file ${dir}: EISDIR`,
    );
    if (process.getuid?.() !== 0) {
      const locked = write('locked.ini', '[pgqd]\n');
      chmodSync(locked, 0o000);
      expect(thrown(() => Config.load(locked, ['pgqd'])).message).toMatch(/EACCES/);
    }
  });

  it('refuses a file without the section, a bad line, bad interpolation and loops', () => {
    expect(thrown(() => Config.fromText('[x]\n', ['pgqd'])).message).toBe(
      '<string>: no [pgqd] section',
    );
    expect(thrown(() => Config.fromText('[pgqd]\njunk line\n', ['pgqd'])).message).toBe(
      '<string>:2: cannot parse line: junk line',
    );
    const cf = Config.fromText('[s]\na = %(b)s\nb = %(a)s\nc = %(zz)s\nd = 5%\n', ['s']);
    expect(thrown(() => cf.get('a')).message).toMatch(/nested too deep/);
    expect(thrown(() => cf.get('c')).message).toBe(
      '<string>:4: [s] value of "c" refers to unknown key "zz"',
    );
    expect(thrown(() => cf.get('d')).message).toMatch(/write %% for a percent sign/);
    expect(() => Config.fromText('[s]\nconfig_format = 3\n', ['s'])).toThrow(
      /config_format must be 1 or 2/,
    );
  });
});

describe('closeMatch', () => {
  it('suggests the nearest known key for a typo, nothing for an unrelated word', async () => {
    const { closeMatch } = await import('../../src/config/index.js');
    const known = ['ticker_period', 'loop_delay', 'node_name', 'db'];
    expect(closeMatch('tikcer_period', known)).toBe('ticker_period');
    expect(closeMatch('loop_dealy', known)).toBe('loop_delay');
    expect(closeMatch('node_nam', known)).toBe('node_name');
    expect(closeMatch('dbb', known)).toBe('db');
    expect(closeMatch('colour', known)).toBeUndefined();
    expect(closeMatch('x', known)).toBeUndefined();
  });
});
