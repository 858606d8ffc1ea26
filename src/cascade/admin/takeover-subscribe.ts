/**
 * register_subscriber for takeover's own registrations (the old root under the new one, a
 * gravestone) and resurrect's (the old root in its gravestone's place). A row left by an earlier, interrupted run holds another position, and the
 * primary key would refuse the new one: it goes first, so a step can be run again.
 */
import type pg from 'pg';
import type { AdminSession } from './session.js';

export async function registerSubscriberAt(
  session: AdminSession,
  provider: string,
  db: pg.Client,
  subscriber: string,
  worker: string,
  tick: string,
): Promise<void> {
  const queue = session.queue;
  const existing = await session.read<{ node_name: string }>(
    db,
    'select node_name from pgq_node.get_subscriber_info($1) where node_name = $2',
    [queue, subscriber],
  );
  if (existing.length > 0) {
    await session.change(provider, db, 'select * from pgq_node.unregister_subscriber($1, $2)', [
      queue,
      subscriber,
    ]);
  }
  await session.change(provider, db, 'select * from pgq_node.register_subscriber($1, $2, $3, $4)', [
    queue,
    subscriber,
    worker,
    tick,
  ]);
}
