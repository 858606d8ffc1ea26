/**
 * `skytools metrics` as a user runs it: /metrics served for two databases, each scrape
 * reading the servers (a second scrape sees the events produced in between); read-only; a
 * clean stop on SIGINT; `--once`; bad input refused with one line naming the problem.
 */
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { Monitor } from '../../src/monitor/index.js';
import { parseListen, serveHttp } from '../../src/script/http-listen.js';
import { useTestDatabase } from '../harness/database.js';
import { killAfterFile, run, serve } from './processes.js';
import { parsePromText } from './prom-text.js';

const db = useTestDatabase();
killAfterFile();
let otherUrl: string;
let otherName: string;

beforeAll(async () => {
  otherName = await db.createDatabase('other', { template: db.cluster.templateDatabase });
  otherUrl = db.url.replace(/[^/]+$/, encodeURIComponent(otherName));
  await db.query(`select pgq.create_queue('cli_q')`);
  await db.query(`select pgq.set_queue_config('cli_q', 'ticker_max_count', '1')`);
  await db.query(`select pgq.register_consumer('cli_q', 'c1')`);
  // Past the first event id, where pending_events (an estimate by ids) is off by one.
  await db.query(`select pgq.insert_event('cli_q', 't', 'd')`);
  await db.query(`select pgq.ticker('cli_q')`);
});

async function get(url: string, method = 'GET') {
  const response = await fetch(url, { method });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: await response.text(),
  };
}

describe('skytools metrics', () => {
  it('serves /metrics of every --db, read at each scrape, and stops cleanly on SIGINT', async () => {
    const served = await serve([
      'metrics',
      '--db',
      db.url,
      '--db',
      otherUrl,
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(served.output.stderr).toMatch(
      /^skytools metrics: serving http:\/\/127\.0\.0\.1:\d+\/metrics$/m,
    );
    const first = await get(`${served.url}/metrics`);
    expect(first.status).toBe(200);
    expect(first.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const m1 = parsePromText(first.body);
    expect(m1.value('skytools_up', { database: db.name })).toBe(1);
    expect(m1.value('skytools_up', { database: otherName })).toBe(1);
    await db.query(`select pgq.insert_event('cli_q', 't', 'd') from generate_series(1, 4)`);
    await db.query(`select pgq.ticker('cli_q')`);
    const m2 = parsePromText((await get(`${served.url}/metrics`)).body);
    const labels = { database: db.name, queue: 'cli_q' };
    expect(
      (m2.value('skytools_pgq_queue_events_total', labels) ?? 0) -
        (m1.value('skytools_pgq_queue_events_total', labels) ?? 0),
    ).toBe(4);
    expect(
      (m2.value('skytools_pgq_consumer_pending_events', { ...labels, consumer: 'c1' }) ?? 0) -
        (m1.value('skytools_pgq_consumer_pending_events', { ...labels, consumer: 'c1' }) ?? 0),
    ).toBe(4);

    expect((await get(`${served.url}/metrics`, 'POST')).status).toBe(405);
    expect((await get(`${served.url}/nothing-here`)).status).toBe(404);
    served.child.kill('SIGINT');
    const finished = await served.exited;
    expect(finished.code).toBe(0);
  });

  it('--once prints the metrics; a database it cannot read is down, and the exit code 1 says so', async () => {
    const bad = await run(['metrics', '--once', '--db', db.url, '--db', `${db.url}_gone`]);
    expect(bad.code).toBe(1);
    const m = parsePromText(bad.stdout);
    expect(m.value('skytools_up', { database: db.name })).toBe(1);
    expect(m.value('skytools_up', { database: `${db.name}_gone` })).toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(new RegExp(`^skytools metrics: ${db.name}_gone: .*does not exist`));
  });

  it('refuses a bad --listen, a taken port and a bad --db with the reason', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      await expect(serveHttp({ host: '127.0.0.1', port }, async () => null)).rejects.toThrow(
        new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
      );
    } finally {
      blocker.close();
    }
    expect(() => new Monitor(['host=x bogus=1'])).toThrow(
      /^--db "host=x bogus=1": .*unknown keyword "bogus"/,
    );
    expect(parseListen('9000', 'x')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('[::1]:9000', 'x')).toEqual({ host: '::1', port: 9000 });
    expect(parseListen('0.0.0.0:1', 'x')).toEqual({ host: '0.0.0.0', port: 1 });
    expect(() => parseListen('70000', 'metrics_port')).toThrow(
      /^metrics_port must be PORT or HOST:PORT/,
    );
  });
});
