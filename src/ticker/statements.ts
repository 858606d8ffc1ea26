/**
 * The statements pgqd sends. Each is one round trip in autocommit, so each tick pass and each
 * maintenance step is its own transaction. NOTIFY pgq_tick (payload: the queue name) is sent
 * by the ticking statement itself and so delivered exactly when the tick commits.
 */

/** Whether the database has schema pgq at all (before anything that would fail to parse). */
export const hasPgqSchema =
  "select exists (select 1 from pg_catalog.pg_namespace where nspname = 'pgq') as has_pgq";

/** Version and the optional functions pgqd can use. */
export const probePgq = `select pgq.version() as version,
  pg_catalog.to_regprocedure('pgq.ticker_pass(interval)') is not null as has_ticker_pass,
  pg_catalog.to_regprocedure('pgq.ticker_pass(interval, text[], interval)') is not null
    as has_wakeup,
  pg_catalog.to_regprocedure('pgq.maint_operations()') is not null as has_maint_operations`;

/**
 * Key of the session advisory lock that makes one pgqd the ticker of a database:
 * (0x70677164 = 'pgqd' in ASCII, 0). Advisory locks are per database, so one key suffices.
 */
export const lockKey = [0x70677164, 0] as const;
export const tryLock = 'select pg_catalog.pg_try_advisory_lock($1, $2) as locked';

/** Low-latency pass (our pgq.ticker_pass), $1 = ticker_min_interval in seconds. */
export const tickPass = `select t.queue_name, t.tick_id, t.new_events,
  case when t.tick_id is not null and t.new_events > 0
       then pg_catalog.pg_notify('pgq_tick', t.queue_name) end as notified
  from pgq.ticker_pass(pg_catalog.make_interval(secs => $1)) t`;

/**
 * Low-latency pass with wake-ups (pgq.ticker_pass of 3 arguments): $1 = ticker_min_interval
 * in seconds, $2 = the queues named by NOTIFY pgq_wakeup since the previous pass, $3 = how
 * long the producers' wake-up flag lasts (seconds; set when every queue is idle). A tick for
 * late events may end a non-empty batch although the event counter did not move. The last
 * row (queue_name NULL) says in next_pass (seconds) how long the database can be left alone.
 */
export const wakeupPass = `select t.queue_name, t.tick_id, t.new_events, t.late_events, t.waiting,
  extract(epoch from t.next_pass)::float8 as next_pass,
  case when t.tick_id is not null and (t.new_events > 0 or t.late_events)
       then pg_catalog.pg_notify('pgq_tick', t.queue_name) end as notified
  from pgq.ticker_pass(pg_catalog.make_interval(secs => $1), $2::text[],
                       pg_catalog.make_interval(secs => $3)) t`;

/** The channel producers wake pgqd on (pgq._ticker_wakeup), payload the queue name. */
export const wakeupChannel = 'pgq_wakeup';
export const listenWakeup = `listen ${wakeupChannel}`;

/** Clear the wake-up flag when pgqd stops, so producers stop sending NOTIFYs at once. */
export const clearWakeup = `select pg_catalog.setval('pgq.ticker_wakeup', 1, false)
  where pg_catalog.pg_sequence_last_value('pgq.ticker_wakeup') is not null`;

/**
 * Upstream's policy (pgq.ticker per queue) through the plain SQL API, for ticker_min_interval = 0
 * and for a pgq without ticker_pass (upstream's extension). OFFSET 0 keeps the ticker call in
 * the subquery, run once per queue after get_queue_info has read the event counts.
 */
export const tickQueues = `select t.queue_name, t.tick_id, t.new_events,
  case when t.tick_id is not null and t.new_events > 0
       then pg_catalog.pg_notify('pgq_tick', t.queue_name) end as notified
  from (select i.queue_name, i.ev_new as new_events, pgq.ticker(i.queue_name) as tick_id
          from pgq.get_queue_info() i
         where not i.queue_external_ticker and not i.queue_ticker_paused
        offset 0) t
 where t.tick_id is not null or t.new_events > 0`;

export const maintOperations = 'select func_name, func_arg from pgq.maint_operations()';

/** The plan of a pgq without maint_operations: rotate every queue, step 2, vacuum list. */
export const legacyMaintOperations = `select 'pgq.maint_rotate_tables_step1'::text as func_name,
       queue_name::text as func_arg from pgq.get_queue_info()
 union all select 'pgq.maint_rotate_tables_step2', null
 union all select 'vacuum', t::text from pgq.maint_tables_to_vacuum() t`;

export const retryEvents = 'select * from pgq.maint_retry_events()';
