import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { fromDatabaseError } from '../../src/db/database-error.js';
import { SkytoolsError } from '../../src/errors.js';
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

  it('prints the reason of a failure in text lines: message, code, SQLSTATE, detail, hint', async () => {
    const logfile = path.join(dir, 'reason.log');
    const log = createScriptLogger({ logfile, console: false });
    const server = new pg.DatabaseError('canceling statement due to lock timeout', 0, 'error');
    server.code = '55P03';
    server.detail = 'queue: q1';
    server.hint = 'try later';
    const failure = fromDatabaseError(server, { action: 'reading the next batch', queue: 'q1' });
    log.logger.child({ queue: 'q1' }).error({ err: failure }, 'worker loop failed; retrying');
    log.logger.warn({ err: server }, 'raw server error');
    const plain = new SkytoolsError('NODE_NOT_FOUND', 'queue "q1" has no cascade node');
    log.logger.warn({ err: plain, consumer: 'w' }, 'could not record the error on the node');
    log.logger.error({ err: new Error('read ECONNRESET') }, 'lost');
    log.close();
    const lines = readFileSync(logfile, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      / ERROR \[queue=q1\] worker loop failed; retrying: reading the next batch on queue "q1": canceling statement due to lock timeout \[LOCK_NOT_AVAILABLE, SQLSTATE 55P03\] DETAIL: queue: q1 HINT: try later$/,
    );
    expect(lines[1]).toMatch(
      / WARNING raw server error: canceling statement due to lock timeout \[SQLSTATE 55P03\] DETAIL: queue: q1 HINT: try later$/,
    );
    expect(lines[2]).toMatch(
      / WARNING \[consumer=w\] could not record the error on the node: queue "q1" has no cascade node \[NODE_NOT_FOUND\]$/,
    );
    expect(lines[3]).toMatch(/ ERROR lost: read ECONNRESET$/);
  });

  it('says a quoted cause once, and shows the stack of an error only at debug level', () => {
    const logfile = path.join(dir, 'stack.log');
    const quiet = createScriptLogger({ logfile, console: false });
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:1');
    const wrapped = new SkytoolsError(
      'CONNECT_FAILED',
      `cannot connect to h:1/db: ${cause.message}`,
      {},
      { cause },
    );
    quiet.logger.warn({ err: wrapped }, 'reconnect failed');
    quiet.close();
    const debug = createScriptLogger({ logfile, console: false, level: 'debug' });
    debug.logger.warn({ err: wrapped }, 'reconnect failed');
    debug.close();
    const text = readFileSync(logfile, 'utf8');
    const [first, second, ...rest] = text.trimEnd().split('\n');
    expect(first).toMatch(
      / WARNING reconnect failed: cannot connect to h:1\/db: connect ECONNREFUSED 127.0.0.1:1 \[CONNECT_FAILED\]$/,
    );
    // At info level no stack: the debug logger's line comes next, the same without stamp.
    const strip = (line: string | undefined) => line?.replace(/^\S+ \S+ \S+ /, '');
    expect(strip(second)).toBe(strip(first));
    // The stack follows the debug line, indented, the cause's stack included.
    expect(rest.length).toBeGreaterThan(1);
    expect(rest.every((line) => line.startsWith('    '))).toBe(true);
    expect(rest.join('\n')).toContain('caused by: Error: connect ECONNREFUSED');
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
