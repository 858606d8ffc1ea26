import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  abortableSleep,
  createScriptLogger,
  formatStats,
  levelFromFlags,
  StatsCounter,
} from '../../src/script/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('logging', () => {
  it('writes SkyTools text lines with the bound context before the message', () => {
    const logfile = path.join(dir, 'text.log');
    const log = createScriptLogger({ logfile, console: false });
    log.logger.info('hello');
    log.logger.child({ db: 'd1', host: 'h:5432' }).child({ queue: 'q' }).error('tick failed');
    log.logger.debug('not shown at info');
    log.close();
    const lines = readFileSync(logfile, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} ${process.pid} INFO hello$`),
    );
    expect(lines[1]).toMatch(/ ERROR \[host=h:5432 db=d1 queue=q\] tick failed$/);
  });

  it('writes JSON lines with --log-format json', () => {
    const logfile = path.join(dir, 'json.log');
    const log = createScriptLogger({ logfile, console: false, format: 'json', level: 'debug' });
    log.logger.child({ db: 'd1' }).debug('x');
    log.close();
    const record = JSON.parse(readFileSync(logfile, 'utf8'));
    expect(record).toMatchObject({ level: 20, db: 'd1', msg: 'x', pid: process.pid });
  });

  it('reopens the logfile after it was rotated away', () => {
    const logfile = path.join(dir, 'rotate.log');
    const log = createScriptLogger({ logfile, console: false });
    log.logger.info('before');
    renameSync(logfile, `${logfile}.1`);
    log.reopen();
    log.logger.info('after');
    log.close();
    expect(readFileSync(`${logfile}.1`, 'utf8')).toMatch(/before/);
    expect(readFileSync(logfile, 'utf8')).toMatch(/INFO after/);
  });

  it('maps -q, -v and -vv to levels', () => {
    expect(levelFromFlags(false, 0)).toBe('info');
    expect(levelFromFlags(true, 0)).toBe('warn');
    expect(levelFromFlags(false, 1)).toBe('debug');
    expect(levelFromFlags(false, 2)).toBe('trace');
  });
});

describe('stats line', () => {
  it('formats counters as {key: value} and clears them when taken', () => {
    const stats = new StatsCounter<'ticks' | 'maint'>();
    stats.increase('ticks');
    stats.increase('ticks', 2);
    stats.put('maint', 0.12345);
    expect(formatStats(stats.take())).toBe('{ticks: 3, maint: 0.123}');
    expect(stats.take()).toEqual({});
    expect(formatStats({})).toBe('{}');
  });
});

describe('abortableSleep', () => {
  it('ends early when any of its signals aborts, and leaves no listener behind', async () => {
    const a = new AbortController();
    const b = new AbortController();
    const sleeping = abortableSleep(60_000, [a.signal, b.signal]);
    expect(EventEmitter.getEventListeners(a.signal, 'abort')).toHaveLength(1);
    b.abort();
    await sleeping;
    expect(EventEmitter.getEventListeners(a.signal, 'abort')).toHaveLength(0);
    await abortableSleep(60_000, b.signal); // already aborted: returns at once
  });
});
