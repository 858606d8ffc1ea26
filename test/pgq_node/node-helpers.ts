/**
 * Cascade nodes for the pgq_node tests: each node is a database of the run's cluster cloned
 * from the template (schemas pgq and pgq_node installed), and the steps the admin tool and the
 * cascaded worker would take are emulated with the same SQL calls they make.
 */
import type pg from 'pg';
import type { TestDatabase } from '../harness/database.js';

// biome-ignore lint/suspicious/noExplicitAny: rows of many different functions
export type Row = Record<string, any>;

export interface Node {
  readonly name: string;
  /** The node's public connect string, as registered in node_location. */
  readonly location: string;
  readonly db: pg.Client;
}

/** First row of a statement. */
export async function one(db: pg.ClientBase, text: string, values?: unknown[]): Promise<Row> {
  const { rows } = await db.query(text, values);
  if (rows.length === 0) throw new Error(`no row from: ${text}`);
  return rows[0] as Row;
}

/** `(ret_code, ret_note)` of a pgq_node function call. */
export async function ret(
  db: pg.ClientBase,
  text: string,
  values?: unknown[],
): Promise<{ ret_code: number; ret_note: string }> {
  const row = await one(db, text, values);
  return { ret_code: row.ret_code, ret_note: row.ret_note };
}

/** A new database for one node (the file's own database when `suffix` is omitted). */
export async function nodeDatabase(
  test: TestDatabase,
  name: string,
  suffix?: string,
): Promise<Node> {
  const database = suffix
    ? await test.createDatabase(suffix, { template: test.cluster.templateDatabase })
    : test.name;
  const db = await test.connect({ database });
  return { name, location: `dbname=${database}`, db };
}

/** create-root: register the node's location, then create the root node. */
export async function createRoot(root: Node, queue: string, worker = `${root.name}_worker`) {
  await expectOk(root.db, 'select * from pgq_node.register_location($1, $2, $3, false)', [
    queue,
    root.name,
    root.location,
  ]);
  await expectOk(
    root.db,
    `select * from pgq_node.create_node($1, 'root', $2, $3, null, null, null)`,
    [queue, root.name, worker],
  );
}

/**
 * create-branch / create-leaf below `provider`: the new location on the provider (and on
 * `root`, if another node), register_subscriber there for the start position, every member
 * location copied to the new node, then create_node.
 */
export async function createSubscriber(
  node: Node,
  provider: Node,
  queue: string,
  type: 'branch' | 'leaf',
  options: { root?: Node; worker?: string; combinedQueue?: string } = {},
) {
  const worker = options.worker ?? `${node.name}_worker`;
  for (const member of new Set([options.root ?? provider, provider])) {
    await expectOk(member.db, 'select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      node.name,
      node.location,
    ]);
  }
  const sub = await one(
    provider.db,
    'select * from pgq_node.register_subscriber($1, $2, $3, null)',
    [queue, node.name, worker],
  );
  if (sub.ret_code !== 200) throw new Error(`register_subscriber: ${sub.ret_note}`);
  const { rows: locations } = await provider.db.query(
    'select * from pgq_node.get_queue_locations($1)',
    [queue],
  );
  for (const member of locations) {
    await expectOk(node.db, 'select * from pgq_node.register_location($1, $2, $3, $4)', [
      queue,
      member.node_name,
      member.node_location,
      member.dead,
    ]);
  }
  await expectOk(node.db, 'select * from pgq_node.create_node($1, $2, $3, $4, $5, $6, $7)', [
    queue,
    type,
    node.name,
    worker,
    provider.name,
    sub.global_watermark,
    options.combinedQueue ?? null,
  ]);
  return sub.global_watermark as string;
}

async function expectOk(db: pg.ClientBase, text: string, values: unknown[]) {
  const result = await ret(db, text, values);
  if (result.ret_code >= 300) throw new Error(`${text}: ${result.ret_code} ${result.ret_note}`);
}

/** Produce on the root and tick, so the events form one batch. Returns the new tick id. */
export async function produceAndTick(root: Node, queue: string, events: string[]) {
  for (const data of events) {
    await root.db.query(`select pgq.insert_event($1, 'data', $2)`, [queue, data]);
  }
  await root.db.query('select pgq.force_tick($1)', [queue]);
  const tick = await one(root.db, 'select pgq.ticker($1) as tick', [queue]);
  return tick.tick as string;
}

/**
 * One loop of a cascaded worker on `node` reading `provider`: take the next batch of its
 * worker consumer; on a branch copy its events (same ev_id and time) into the local queue;
 * apply the cascade events; on a branch make the same tick (id, time, event position); record
 * the tick as completed; then finish the batch on the provider. (Crash safety between the
 * copy and the tick is the real worker's business, not these tests'.)
 * Returns the batch's events, or null when there was no batch.
 */
export async function workerStep(node: Node, provider: Node, queue: string) {
  const state = await one(node.db, 'select * from pgq_node.get_worker_state($1)', [queue]);
  if (state.ret_code !== 100) throw new Error(`get_worker_state: ${state.ret_note}`);
  const batch = await one(provider.db, 'select * from pgq.next_batch_info($1, $2)', [
    queue,
    state.worker_name,
  ]);
  if (batch.batch_id === null) return null;
  const { rows: events } = await provider.db.query(
    'select * from pgq.get_batch_events($1) order by ev_id',
    [batch.batch_id],
  );
  await node.db.query('begin');
  try {
    if (state.node_type === 'branch') {
      await node.db.query(`set local session_replication_role = 'replica'`);
      for (const ev of events) {
        await node.db.query(
          'select pgq.insert_event_raw($1, $2, $3, null, $4, $5, $6, $7, $8, $9, $10)',
          [
            queue,
            ev.ev_id,
            ev.ev_time,
            ev.ev_retry,
            ev.ev_type,
            ev.ev_data,
            ev.ev_extra1,
            ev.ev_extra2,
            ev.ev_extra3,
            ev.ev_extra4,
          ],
        );
      }
    }
    for (const ev of events) await applyCascadeEvent(node, queue, ev);
    if (state.node_type === 'branch') {
      // A tick's snapshot does not cover its own transaction (txid_current() is its xmax):
      // ticking in the copying transaction would push the batch's events into the next
      // batch. The copy commits first; the tick and the position follow.
      await node.db.query('commit');
      await node.db.query('begin');
      await node.db.query('select pgq.ticker($1, $2, $3, $4)', [
        queue,
        batch.cur_tick_id,
        batch.cur_tick_time,
        batch.cur_tick_event_seq,
      ]);
    }
    await node.db.query('select * from pgq_node.set_consumer_completed($1, $2, $3)', [
      queue,
      state.worker_name,
      batch.cur_tick_id,
    ]);
    await node.db.query('commit');
  } catch (error) {
    await node.db.query('rollback');
    throw error;
  }
  await provider.db.query('select pgq.finish_batch($1)', [batch.batch_id]);
  return events as Row[];
}

/** What every worker does with the cascade events of §2.3. */
async function applyCascadeEvent(node: Node, queue: string, ev: Row) {
  if (ev.ev_type === 'pgq.location-info') {
    await node.db.query('select * from pgq_node.register_location($1, $2, $3, $4)', [
      ev.ev_extra1,
      ev.ev_data,
      ev.ev_extra2,
      ev.ev_extra3 === 'true',
    ]);
  } else if (ev.ev_type === 'pgq.unregister-location') {
    await node.db.query('select * from pgq_node.unregister_location($1, $2)', [
      ev.ev_extra1,
      ev.ev_data,
    ]);
  } else if (ev.ev_type === 'pgq.global-watermark') {
    await node.db.query('select * from pgq_node.set_global_watermark($1, $2)', [queue, ev.ev_data]);
  }
}

/** The worker's local watermark report to its provider. */
export async function publishLocalWatermark(node: Node, provider: Node, queue: string) {
  const state = await one(node.db, 'select * from pgq_node.get_worker_state($1)', [queue]);
  return ret(provider.db, 'select * from pgq_node.set_subscriber_watermark($1, $2, $3)', [
    queue,
    node.name,
    state.local_watermark,
  ]);
}
