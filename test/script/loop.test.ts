import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ScriptLoop } from '../../src/script/index.js';

function capture() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const records = () =>
    lines.map((line) => JSON.parse(line) as { level: number; msg: string; traceback?: string });
  return { logger, records, messages: () => records().map((r) => r.msg) };
}

class QuietError extends Error {
  readonly code = 'FLAKY';
}

describe('ScriptLoop', () => {
  it('calls work again at once while it returns true; loop_delay 0 ends when idle', async () => {
    const { logger } = capture();
    let calls = 0;
    await new ScriptLoop({ jobName: 'j', logger, loopDelay: 0 }).run(async () => ++calls < 5);
    expect(calls).toBe(5);
  });

  it('a negative loop_delay runs once and a crash then propagates', async () => {
    const { logger, messages } = capture();
    let calls = 0;
    const loop = new ScriptLoop({ jobName: 'once', logger, loopDelay: -1 });
    await loop.run(async () => {
      calls++;
      return false;
    });
    expect(calls).toBe(1);
    await expect(
      loop.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(loop.workState).toBe(-1);
    expect(messages()).toEqual(['Job once crashed: boom']);
  });

  it('after a crash: logs, resets, sleeps exception_sleep and tries again', async () => {
    const { logger, messages } = capture();
    let calls = 0;
    let resets = 0;
    const loop = new ScriptLoop({
      jobName: 'retry',
      logger,
      loopDelay: 0,
      exceptionSleep: 0.01,
      reset: () => {
        resets++;
      },
    });
    await loop.run(async () => {
      calls++;
      if (calls === 1) throw new Error('first call fails');
      return false;
    });
    expect({ calls, resets }).toEqual({ calls: 2, resets: 1 });
    expect(messages()).toEqual(['Job retry crashed: first call fails']);
  });

  it('stops on its AbortSignal, and wake() ends a sleep early', async () => {
    const { logger } = capture();
    const stop = new AbortController();
    let calls = 0;
    const loop = new ScriptLoop({ jobName: 'w', logger, loopDelay: 3600, signal: stop.signal });
    const running = loop.run(async () => {
      calls++;
      if (calls === 3) stop.abort();
      return false;
    });
    // Each wake() ends one hour-long sleep; the third call aborts.
    while (calls < 3) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      loop.wake();
    }
    await running;
    expect(calls).toBe(3);
  });

  it('a crash is an error with its stack; quiet errors within exception_grace are warnings', async () => {
    const { logger, records } = capture();
    let clock = 0;
    const stop = new AbortController();
    // Each call advances the clock by `steps[i]` seconds, then fails (or stops the loop).
    const steps: [number, Error | null][] = [
      [0, new QuietError('first')], // the first failure: always loud
      [100, new QuietError('second')], // within the grace period: a warning
      [100, new Error('other kind')], // not listed: loud
      [150, new QuietError('late')], // 350 s after the first failure: loud again
      [1000, null], // a success 1000 s after the last failure forgets the failures
      [1, new QuietError('fresh start')], // a first failure again: loud
      [1, new QuietError('quiet again')],
    ];
    let call = 0;
    const loop = new ScriptLoop({
      jobName: 'q',
      logger,
      loopDelay: 0.001,
      exceptionSleep: 0.001,
      exceptionQuiet: ['FLAKY'],
      exceptionGrace: 300,
      exceptionReset: 900,
      signal: stop.signal,
      now: () => clock * 1000,
    });
    await loop.run(async () => {
      const step = steps[call++];
      if (step === undefined) {
        stop.abort();
        return false;
      }
      clock += step[0];
      if (step[1] !== null) throw step[1];
      return false;
    });
    const seen = records().map((r) => [r.level === 40 ? 'warn' : 'error', r.msg, !!r.traceback]);
    expect(seen).toEqual([
      ['error', 'Job q crashed: first', true],
      ['warn', 'Job q crashed: second', false],
      ['error', 'Job q crashed: other kind', true],
      ['error', 'Job q crashed: late', true],
      ['error', 'Job q crashed: fresh start', true],
      ['warn', 'Job q crashed: quiet again', false],
    ]);
    expect(records()[0]?.traceback).toMatch(/^Error: first\n\s+at /);
  });

  it('ALL quiets every error; succeeded() within exception_reset keeps the failure', async () => {
    const { logger, records } = capture();
    let clock = 0;
    const loop = new ScriptLoop({
      jobName: 'all',
      logger,
      loopDelay: 0,
      exceptionSleep: 0.001,
      exceptionQuiet: ['all'],
      now: () => clock * 1000,
    });
    let call = 0;
    await loop.run(async () => {
      call++;
      if (call === 1) throw new Error('one');
      if (call === 2) {
        clock += 10;
        loop.succeeded(); // 10 s of success: not enough to forget
        throw new TypeError('two');
      }
      return false;
    });
    expect(records().map((r) => [r.level, r.msg])).toEqual([
      [50, 'Job all crashed: one'],
      [40, 'Job all crashed: two'],
    ]);
  });
});
