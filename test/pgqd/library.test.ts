/**
 * The Pgqd class driven from code (as bench/ does): start(signal), stats(), stop(), and the
 * settings and maintenance helpers underneath.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Config } from '../../src/config/index.js';
import { Pgqd, pgqdSettings, settingsFromConfig } from '../../src/ticker/index.js';
import { operationStatement, quoteQualifiedName } from '../../src/ticker/maintenance.js';
import { useTestDatabase } from '../harness/database.js';
import { poll } from './helpers.js';

const db = useTestDatabase();

describe('Pgqd as a library', () => {
  it('ticks until its AbortSignal aborts, counting ticks, and leaves no connection behind', async () => {
    await db.query("select pgq.create_queue('lib')");
    const settings = pgqdSettings({
      baseConnstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
      databaseList: [db.name],
      tickerPeriod: 0.1,
    });
    const ticks: string[] = [];
    const daemon = new Pgqd(settings, {
      logger: pino({ level: 'silent' }),
      onTick: (database, queue) => ticks.push(`${database}/${queue}`),
    });
    const controller = new AbortController();
    const running = daemon.start(controller.signal);
    await db.query("select pgq.insert_event('lib', 't', 'x')");
    await poll(
      async () => daemon.stats().ticks,
      (n) => n >= 1,
    );
    expect(ticks).toContain(`${db.name}/lib`);
    expect(daemon.databases()).toEqual({ [db.name]: 'active' });
    controller.abort();
    await running;
    const { rows } = await db.query(
      "select count(*)::int as n from pg_stat_activity where application_name = 'pgqd' and datname = $1",
      [db.name],
    );
    expect(rows[0]?.n).toBe(0);
  });
});

describe('Pgqd policies', () => {
  const base = () => `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`;

  it('ticker_min_interval = 0 ticks by upstream rules only, still with NOTIFY', async () => {
    await db.query(`select pgq.create_queue('upstream');
      select pgq.set_queue_config('upstream', 'ticker_max_lag', '1 second');
      select pgq.set_queue_config('upstream', 'ticker_idle_period', '1 hour')`);
    const listener = await db.connect();
    const payloads: string[] = [];
    listener.on('notification', (message) => payloads.push(message.payload ?? ''));
    await listener.query('listen pgq_tick');
    const daemon = new Pgqd(
      pgqdSettings({
        baseConnstr: base(),
        databaseList: [db.name],
        tickerPeriod: 0.05,
        tickerMinInterval: 0,
      }),
      { logger: pino({ level: 'silent' }) },
    );
    const running = daemon.start();
    // A new queue's second tick comes at once; events after it wait for ticker_max_lag.
    await poll(
      async () =>
        (
          await db.query(
            "select count(*)::int as n from pgq.tick join pgq.queue on queue_id = tick_queue where queue_name = 'upstream'",
          )
        ).rows[0]?.n,
      (n) => n >= 2,
    );
    await db.query("select pgq.insert_event('upstream', 't', 'x')");
    await db.query("select pgq.insert_event('upstream', 't', 'y')");
    await poll(
      async () => payloads,
      (got) => got.includes('upstream'),
    );
    await daemon.stop();
    await running;
    await listener.end();
    // Every tick with events came at least ticker_max_lag after the one before it.
    const { rows } = await db.query<{ gap: number; events: string }>(
      `select extract(epoch from tick_time - lag(tick_time) over w)::float8 as gap,
              tick_event_seq - lag(tick_event_seq) over w as events
         from pgq.tick join pgq.queue on queue_id = tick_queue
        where queue_name = 'upstream' window w as (order by tick_id) order by tick_id`,
    );
    const withEvents = rows.slice(1).filter((row) => Number(row.events) > 0);
    expect(withEvents.length).toBeGreaterThan(0);
    for (const row of withEvents) expect(row.gap).toBeGreaterThanOrEqual(1);
  });

  it('reconnects when connection_lifetime is reached', async () => {
    const daemon = new Pgqd(
      pgqdSettings({
        baseConnstr: base(),
        databaseList: [db.name],
        tickerPeriod: 0.05,
        connectionLifetime: 1,
      }),
      { logger: pino({ level: 'silent' }) },
    );
    const running = daemon.start();
    const backend = async () =>
      (
        await db.query(
          "select pid from pg_stat_activity where application_name = 'pgqd' and datname = $1",
          [db.name],
        )
      ).rows.map((row) => row.pid as number);
    const first = await poll(backend, (pids) => pids.length === 1);
    await poll(backend, (pids) => pids.length === 1 && pids[0] !== first[0]);
    await daemon.stop();
    await running;
  });
});

describe('Pgqd reload and upstream pgq', () => {
  it('applies a new database list on reload, and ticks a pgq without ticker_pass by the SQL API', async () => {
    const other = await db.createDatabase('nopass', { template: db.cluster.templateDatabase });
    const otherPool = db.pool({ database: other, max: 2 });
    await otherPool.query(`drop function pgq.ticker_pass(interval);
      select pgq.create_queue('plain api')`);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const settings = pgqdSettings({
      baseConnstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
      databaseList: [db.name],
      tickerPeriod: 0.05,
    });
    const daemon = new Pgqd(settings, { logger });
    const running = daemon.start();
    await poll(
      async () => daemon.databases(),
      (dbs) => dbs[db.name] === 'active',
    );
    daemon.reload({ ...settings, databaseList: [other] });
    await poll(
      async () => daemon.databases(),
      (dbs) => dbs[other] === 'active' && !(db.name in dbs),
    );
    const listener = await db.connect({ database: other });
    const payloads: string[] = [];
    listener.on('notification', (message) => payloads.push(message.payload ?? ''));
    await listener.query('listen pgq_tick');
    await otherPool.query("select pgq.insert_event('plain api', 't', 'a')");
    await otherPool.query("select pgq.insert_event('plain api', 't', 'b')");
    await poll(
      async () => payloads,
      (got) => got.includes('plain api'),
    );
    await listener.end();
    await daemon.stop();
    await running;
    const messages = lines.map((line) => JSON.parse(line).msg as string);
    expect(messages).toContain(`Unregister database: ${db.name}`);
    expect(messages).toContain('pgq.ticker_pass() not found: ticking with upstream policy only');
  });
});

describe('settings', () => {
  it('has upstream defaults plus ours', () => {
    const s = pgqdSettings();
    expect(s).toMatchObject({
      initialDatabase: 'template1',
      databaseList: null,
      checkPeriod: 60,
      retryPeriod: 30,
      maintPeriod: 120,
      tickerPeriod: 1,
      statsPeriod: 30,
      connectionLifetime: 3600,
      tickerMinInterval: 0.01,
      reconnectMaxDelay: 10,
      exitAfterFailures: 0,
    });
  });

  it('reads periods as float seconds and lists with blanks trimmed', () => {
    const s = settingsFromConfig(
      Config.fromText(
        '[pgqd]\nticker_period = 0.5\ndatabase_list = a , b,c\nmaint_period = 2min\n',
        ['pgqd'],
      ),
    );
    expect(s).toMatchObject({ tickerPeriod: 0.5, databaseList: ['a', 'b', 'c'], maintPeriod: 120 });
  });

  it('refuses a dbname in base_connstr and negative values, naming the key', () => {
    const load = (text: string) => () =>
      settingsFromConfig(Config.fromText(`[pgqd]\n${text}\n`, ['pgqd']));
    expect(load('base_connstr = dbname=x')).toThrow(
      '<string>:2: [pgqd] base_connstr must not name a database (dbname is added)',
    );
    expect(load('exit_after_failures = -1')).toThrow(/exit_after_failures must be >= 0/);
    expect(load('ticker_period = 0')).toThrow(/ticker_period must be at least 0.01, not 0/);
  });
});

describe('maintenance statements', () => {
  it('quotes qualified names and passes the argument as a parameter', () => {
    expect(quoteQualifiedName('pgq.maint_rotate_tables_step1')).toBe(
      'pgq.maint_rotate_tables_step1',
    );
    expect(quoteQualifiedName('public.My Table')).toBe('public."My Table"');
    expect(quoteQualifiedName('"we.ird"."x""y"')).toBe('"we.ird"."x""y"');
    expect(operationStatement({ func_name: 'vacuum', func_arg: 'pgq.tick' })).toEqual({
      text: 'vacuum pgq.tick',
      values: [],
    });
    expect(
      operationStatement({ func_name: 'pgq.maint_rotate_tables_step1', func_arg: "q'; drop" }),
    ).toEqual({ text: 'select pgq.maint_rotate_tables_step1($1)', values: ["q'; drop"] });
    expect(operationStatement({ func_name: 'x; drop table t', func_arg: null }).text).toBe(
      'select "x; drop table t"()',
    );
  });
});
