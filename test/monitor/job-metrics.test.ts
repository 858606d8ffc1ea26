/**
 * `metrics_port` of the long-running jobs (one place: the job lifecycle): pgqd serves its
 * tick and maintenance counters, a consumer job the sums of its batch stats lines; the key
 * is checked at load (a bad value names file, key and problem) and known to every tool.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAdminSettings } from '../../src/cascade/admin/settings.js';
import { Config, findUnknownKeys } from '../../src/config/index.js';
import { jobKeys } from '../../src/consumers/job-settings.js';
import { settingsFromConfig } from '../../src/ticker/settings.js';
import { libpq, useJobs } from '../consumers/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { until } from '../harness/until.js';
import { usePgqd } from '../pgqd/helpers.js';
import { freePort, scrape } from './scrape.js';

const db = useTestDatabase();
const jobs = useJobs();
const pgqd = usePgqd();

beforeAll(async () => {
  await db.query(`select pgq.create_queue('jq')`);
  await db.query(`select pgq.register_consumer('jq', 'sink_job')`);
  await db.query('create table sink (id int)');
});

describe('metrics_port', () => {
  it('serves the counters of pgqd and of a consumer job while they run', async () => {
    const [pgqdPort, jobPort] = [await freePort(), await freePort()];
    const config = pgqd.writeConfig('ticker', {
      base_connstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
      database_list: db.name,
      metrics_port: `127.0.0.1:${pgqdPort}`,
    });
    const ticker = pgqd.start([config]);
    const jobConfig = jobs.writeConfig('sink_job', 'simple_consumer', {
      src_db: libpq(db.config()),
      dst_db: libpq(db.config()),
      queue_name: 'jq',
      dst_query: 'insert into sink (id) values (%%(id)s)',
      loop_delay: 0.1,
      metrics_port: jobPort,
    });
    const job = jobs.start('simple_consumer', [jobConfig]);
    await ticker.waitFor(
      new RegExp(`metrics on http://127\\.0\\.0\\.1:${pgqdPort}/metrics`),
      60_000,
    );
    await job.waitFor(new RegExp(`metrics on http://127\\.0\\.0\\.1:${jobPort}/metrics`), 60_000);
    await db.query(
      `select pgq.insert_event('jq', 'I:id', 'id=' || i) from generate_series(1, 5) i`,
    );

    const labels = { queue: 'jq', consumer: 'sink_job' };
    const m = await until(
      'the consumer job to count 5 events',
      () => scrape(`http://127.0.0.1:${jobPort}/metrics`),
      (x) => x.value('skytools_job_events_total', labels) === 5,
    );
    expect(m.value('skytools_job_batches_total', labels)).toBeGreaterThanOrEqual(1);
    expect(m.value('skytools_job_batch_duration_seconds_total', labels)).toBeGreaterThan(0);
    expect(m.value('skytools_job_last_batch_timestamp_seconds', labels)).toBeGreaterThan(0);
    expect(m.find('skytools_job_info')[0]?.labels).toMatchObject({
      program: 'simple_consumer',
      job_name: 'sink_job',
    });
    expect(m.find('skytools_job_process_resident_memory_bytes')).toHaveLength(1);
    expect((await db.query('select count(*)::int as n from sink')).rows[0]?.n).toBe(5);

    const t = await scrape(`http://127.0.0.1:${pgqdPort}/metrics`);
    expect(t.types.get('skytools_pgqd_ticks_total')).toBe('counter');
    expect(t.value('skytools_pgqd_ticks_total')).toBeGreaterThan(0);
    expect(t.find('skytools_pgqd_databases').reduce((n, s) => n + s.value, 0)).toBe(1);
    expect(t.find('skytools_job_info')[0]?.labels.program).toBe('pgqd');

    job.signal('SIGINT');
    ticker.signal('SIGINT');
    expect(await job.exited).toBe(0);
    expect(await ticker.exited).toBe(0);
  });

  it('is checked at load and known to pgqd, the consumer jobs and the cascade tools', () => {
    const file = path.join(jobs.dir, 'bad.ini');
    writeFileSync(file, '[pgqd]\nmetrics_port = localhost:none\n');
    expect(() => settingsFromConfig(Config.load(file, ['pgqd']))).toThrow(
      /bad\.ini.*metrics_port.*must be PORT or HOST:PORT with a port from 0 to 65535, not "localhost:none"/,
    );
    writeFileSync(file, '[pgqd]\nmetrics_port = 9300\n');
    expect(settingsFromConfig(Config.load(file, ['pgqd'])).metricsListen).toEqual({
      host: '127.0.0.1',
      port: 9300,
    });
    writeFileSync(
      file,
      '[sink]\njob_name = sink\nqueue_name = q\ndb = dbname=x\nmetrics_port = 0.0.0.0:9301\n',
    );
    expect(findUnknownKeys(Config.load(file, ['sink']), jobKeys)).toEqual([]);
    const admin = loadAdminSettings(file, {}, {}, { sections: ['sink'], dbKey: 'db' });
    expect(admin.unknownKeys).toEqual([]);
    expect(admin.metricsListen).toEqual({ host: '0.0.0.0', port: 9301 });
  });
});
