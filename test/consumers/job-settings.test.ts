/**
 * The framework keys of the consumer jobs: defaults, what reaches the library Consumer, and
 * errors at load that name file, line, section and key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Config } from '../../src/config/index.js';
import { loadJobSettings } from '../../src/consumers/job-settings.js';
import { loadSimpleLocalConsumerSettings } from '../../src/consumers/simple-local-consumer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'skytools-job-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(keys: Record<string, string>, name = 'job') {
  const file = path.join(dir, `${name}.ini`);
  const body = Object.entries({ queue_name: 'orders', ...keys })
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
  writeFileSync(file, `[simple_consumer]\n${body}\n`);
  return { file, settings: () => loadJobSettings(Config.load(file, ['simple_consumer'])) };
}

/** The error of loading these keys; its text starts with file:line: [section]. */
function failure(keys: Record<string, string>): { message: string; file: string } {
  const { file, settings } = load(keys, 'bad');
  try {
    settings();
  } catch (error) {
    return { message: (error as Error).message, file };
  }
  throw new Error(`loading ${JSON.stringify(keys)} did not fail`);
}

describe('consumer job framework keys', () => {
  it('defaults: connection_lifetime 1200, grace 300, reset 900, keepalive_stats 300, no quiet errors, no per-event retry', () => {
    const s = load({}).settings();
    expect(s).toMatchObject({
      connectionLifetime: 1200,
      keepaliveStats: 300,
      exceptionGrace: 300,
      exceptionReset: 900,
      exceptionQuiet: [],
      retry: null,
    });
    expect(s.consumerOptions).toMatchObject({ connectionLifetime: 1200 });
    expect(s.consumerOptions.maxRetries).toBeUndefined();
    expect(s.consumerOptions.retryDelay).toBeUndefined();
  });

  it('reads every key and hands the retry keys to the library Consumer', () => {
    const s = load({
      exception_quiet: 'DST_QUERY_FAILED, ConfigError,08006',
      exception_grace: '1min',
      exception_reset: '2h',
      connection_lifetime: '600',
      keepalive_stats: '1min',
      retry_delay: '30s',
      max_retries: '4',
      dead_letter_queue: 'orders_failed',
    }).settings();
    expect(s).toMatchObject({
      exceptionQuiet: ['DST_QUERY_FAILED', 'ConfigError', '08006'],
      exceptionGrace: 60,
      exceptionReset: 7200,
      connectionLifetime: 600,
      keepaliveStats: 60,
      retry: { retryDelay: 30, maxRetries: 4, deadLetterQueue: 'orders_failed' },
    });
    expect(s.consumerOptions).toMatchObject({
      connectionLifetime: 600,
      retryDelay: 30,
      maxRetries: 4,
      deadLetterQueue: 'orders_failed',
    });
    // retry_delay alone: per-event retry, unlimited.
    expect(load({ retry_delay: '5' }).settings().retry).toEqual({
      retryDelay: 5,
      maxRetries: null,
      deadLetterQueue: null,
    });
    // 0: no idle lines.
    expect(load({ keepalive_stats: '0' }).settings().keepaliveStats).toBe(0);
    expect(load({ max_retries: '0' }).settings().retry).toEqual({
      retryDelay: 60,
      maxRetries: 0,
      deadLetterQueue: null,
    });
  });

  it.each([
    [{ max_retries: '-1' }, 'max_retries must not be negative, not -1'],
    [{ max_retries: 'many' }, 'max_retries = "many" is not an integer'],
    [{ retry_delay: 'soon' }, 'retry_delay = "soon" is not a period in seconds'],
    [{ retry_delay: '99999999999' }, 'retry_delay must be at most 2147483647 seconds'],
    [
      { dead_letter_queue: 'dlq' },
      'dead_letter_queue needs max_retries (events go there after that many retries)',
    ],
    [
      { max_retries: '3', dead_letter_queue: 'orders' },
      `dead_letter_queue must not be the consumer's own queue ("orders")`,
    ],
    [{ exception_grace: 'a while' }, 'exception_grace = "a while" is not a period in seconds'],
    [{ exception_reset: '-5' }, 'exception_reset = "-5" is not a period in seconds'],
    [{ connection_lifetime: '0' }, 'connection_lifetime must be above 0 seconds'],
    [{ connection_lifetime: 'forever' }, 'connection_lifetime = "forever" is not a period'],
    [{ keepalive_stats: 'often' }, 'keepalive_stats = "often" is not a period in seconds'],
    [{ keepalive_stats: '-1' }, 'keepalive_stats = "-1" is not a period in seconds'],
    [
      { keepalive_stats: '30d' },
      'keepalive_stats must be at most 2147483 seconds (0: no idle lines)',
    ],
  ])('refuses %j naming file, section and key', (keys, text) => {
    const { message, file } = failure(keys);
    const key = Object.keys(keys).at(-1) as string;
    expect(message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `));
    expect(message).toContain(`[simple_consumer] ${text}`);
    expect(message).toContain(key);
  });

  it('simple_local_consumer refuses the per-event retry keys', () => {
    for (const key of ['max_retries', 'dead_letter_queue', 'retry_delay']) {
      const file = path.join(dir, 'local.ini');
      writeFileSync(
        file,
        `[simple_local_consumer]\nqueue_name = q\ndst_query = select 1\nlocal_tracking_file = ${dir}/x.tick\n${key} = 3\n`,
      );
      expect(() =>
        loadSimpleLocalConsumerSettings(Config.load(file, ['simple_local_consumer'])),
      ).toThrow(
        `${file}:5: [simple_local_consumer] ${key} is not supported by simple_local_consumer`,
      );
    }
  });
});
