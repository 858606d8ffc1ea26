import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ScriptLoop } from '../../src/script/index.js';

function capture() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  return { logger, messages: () => lines.map((line) => JSON.parse(line).msg as string) };
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
});
