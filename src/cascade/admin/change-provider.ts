/**
 * change-provider: move a node's worker (or a plain cascaded consumer) to read from another
 * member. Because every node keeps events until the global watermark passed them, the new
 * provider still has the batches the target has not read yet, so the move loses nothing:
 * pause, subscribe on the new provider at the target's last tick, switch, resume, and only
 * then drop the old subscription.
 */
import type pg from 'pg';
import { CascadeError, getLocations, getNodeInfo, type NodeType } from '../node-calls.js';
import { setPaused, waitAcknowledged } from './pause.js';
import type { AdminSession } from './session.js';
import { consumerInfo, resolveTarget, type Target, type TargetSpec } from './target.js';

export interface ChangeProviderOptions extends TargetSpec {
  /** Name of the new provider node. */
  provider: string;
  /** Limit for each wait on the target's acknowledgement; undefined = no limit. */
  timeoutSeconds?: number;
}

export async function changeProvider(
  session: AdminSession,
  options: ChangeProviderOptions,
): Promise<void> {
  const queue = session.queue;
  const newProvider = options.provider;
  const t = await resolveTarget(session, options);
  const ctx = { queue, node: t.node, consumer: t.consumer, provider: newProvider };
  if (newProvider === t.node) {
    throw new CascadeError('SELF_SUBSCRIPTION', `node ${t.node} cannot be its own provider`, ctx);
  }
  if (t.isWorker && t.info.node_type === 'root') {
    throw new CascadeError(
      'ROOT_HAS_NO_PROVIDER',
      `node ${t.node} is the root of queue ${queue}; it has no provider to change (use takeover)`,
      ctx,
    );
  }
  const members = await getLocations(t.db, queue);
  const member = members.find((m) => m.node_name === newProvider);
  if (member === undefined) {
    throw new CascadeError(
      'UNKNOWN_NODE',
      `provider ${newProvider} is not a member of queue ${queue} (members: ${members.map((m) => m.node_name).join(', ')})`,
      ctx,
    );
  }
  if (member.dead) {
    throw new CascadeError('NODE_DEAD', `provider ${newProvider} is tagged dead`, ctx);
  }
  const before = await consumerInfo(t.db, queue, t.node, t.consumer);
  const oldProvider = before.provider_node;
  if (oldProvider === newProvider) {
    session.out.info(`${t.node}: consumer ${t.consumer} already has ${newProvider} as provider`);
    return;
  }
  const providerDb = await session.db(newProvider);
  await checkProvider(session, t, newProvider, providerDb);

  await setPaused(session, t, true, { timeoutSeconds: options.timeoutSeconds }).catch(
    async (error: unknown) => {
      // The pause was not acknowledged: undo it, so a failed change leaves the node as it was.
      if (!before.paused) await setPaused(session, t, false, { wait: false }).catch(() => {});
      throw error;
    },
  );
  let switched = false;
  try {
    // The position after the worker stopped: the batches after it are what the new provider
    // must still hold.
    const { last_tick_id: lastTick } = await consumerInfo(t.db, queue, t.node, t.consumer);
    const location = members.find((m) => m.node_name === t.node)?.node_location;
    await session.change(
      newProvider,
      providerDb,
      'select * from pgq_node.register_location($1, $2, $3, false)',
      [queue, t.node, location ?? null],
    );
    if (!session.dryRun) {
      await waitForTick(session, t, newProvider, providerDb, lastTick, options.timeoutSeconds);
    }
    await subscribe(session, t, newProvider, providerDb, lastTick);
    await session.change(
      t.node,
      t.db,
      'select * from pgq_node.change_consumer_provider($1, $2, $3)',
      [queue, t.consumer, newProvider],
    );
    switched = true;
    // A worker that read its state just before the pause may have finished one more batch
    // from the old provider since: start it on the new one where it really is.
    const now = await consumerInfo(t.db, queue, t.node, t.consumer);
    if (!session.dryRun && now.last_tick_id !== lastTick) {
      session.out.info(
        `${t.node}: ${t.consumer} moved on to tick ${now.last_tick_id}; repositioning`,
      );
      await session.execute(
        newProvider,
        providerDb,
        'select pgq.register_consumer_at($1, $2, $3)',
        [queue, t.consumer, now.last_tick_id],
      );
    }
  } finally {
    if (!before.paused) {
      await setPaused(session, t, false, { wait: false });
    } else {
      session.out.info(`${t.node}: consumer ${t.consumer} was paused before and stays paused`);
    }
  }
  if (switched && !session.dryRun && !before.paused) {
    await waitAcknowledged(session, t.node, t.consumer, 'resume', options);
  }
  await unsubscribeOld(session, t, oldProvider);
  if (!session.dryRun)
    session.out.print(`${t.node}: consumer ${t.consumer} now reads from ${newProvider}`);
}

/** The new provider must have a queue (not a leaf) and must not sit below the target. */
async function checkProvider(
  session: AdminSession,
  t: Target,
  newProvider: string,
  providerDb: pg.Client,
): Promise<void> {
  const queue = session.queue;
  const ctx = { queue, node: t.node, provider: newProvider };
  const info = await getNodeInfo(providerDb, queue);
  if (info.node_type === 'leaf') {
    throw new CascadeError(
      'PROVIDER_IS_LEAF',
      `node ${newProvider} is a leaf of queue ${queue}; only a root or branch can be a provider`,
      ctx,
    );
  }
  if (!t.isWorker) return;
  // Walk up from the new provider: meeting the target means the move would make a loop.
  let name: string | null = info.provider_node;
  let type: NodeType | null = info.node_type;
  const seen = new Set([newProvider]);
  while (type !== 'root' && name !== null && !seen.has(name)) {
    if (name === t.node) {
      throw new CascadeError(
        'PROVIDER_LOOP',
        `node ${newProvider} reads (through its providers) from ${t.node}; making it ${t.node}'s provider would make a loop`,
        ctx,
      );
    }
    seen.add(name);
    if (session.dead.has(name)) return;
    let up: Awaited<ReturnType<typeof getNodeInfo>>;
    try {
      up = await getNodeInfo(await session.db(name), queue);
    } catch (error) {
      session.out.warn(`cannot check the providers above ${name}: ${(error as Error).message}`);
      return;
    }
    type = up.node_type;
    name = up.provider_node;
  }
}

/**
 * A new provider that is itself behind the target (it was moved, or is catching up) has no
 * tick to register the target at yet: wait until it has copied that tick, as it will once its
 * own worker runs, rather than fail with "tick not found".
 */
async function waitForTick(
  session: AdminSession,
  t: Target,
  newProvider: string,
  providerDb: pg.Client,
  lastTick: string,
  timeoutSeconds = 60,
): Promise<void> {
  const goal = BigInt(lastTick);
  const started = Date.now();
  let told = false;
  for (;;) {
    const { rows } = await providerDb.query<{ last_tick_id: string | null }>(
      'select last_tick_id::text from pgq.get_queue_info($1)',
      [session.queue],
    );
    const at = BigInt(rows[0]?.last_tick_id ?? '0');
    if (at >= goal) return;
    if (!told) {
      session.out.info(
        `${t.node}: waiting for ${newProvider} to reach tick ${goal} (at ${at}) before moving ${t.consumer} there`,
      );
      told = true;
    }
    if (timeoutSeconds > 0 && Date.now() - started >= timeoutSeconds * 1000) {
      throw new CascadeError(
        'WAIT_TIMEOUT',
        `${newProvider} did not reach tick ${goal} within ${timeoutSeconds} s (at tick ${at}), so ${t.consumer} of node ${t.node} cannot move there; is ${newProvider}'s worker running?`,
        { queue: session.queue, node: t.node, provider: newProvider, tick: String(at) },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function subscribe(
  session: AdminSession,
  t: Target,
  newProvider: string,
  providerDb: pg.Client,
  lastTick: string,
): Promise<void> {
  const queue = session.queue;
  try {
    if (t.isWorker) {
      const subs = await session.read<{ node_name: string }>(
        providerDb,
        'select node_name from pgq_node.get_subscriber_info($1) where node_name = $2',
        [queue, t.node],
      );
      if (subs.length > 0) {
        // A stale registration (an earlier, interrupted move) holds the wrong position.
        await session.change(
          newProvider,
          providerDb,
          'select * from pgq_node.unregister_subscriber($1, $2)',
          [queue, t.node],
        );
      }
      await session.change(
        newProvider,
        providerDb,
        'select * from pgq_node.register_subscriber($1, $2, $3, $4)',
        [queue, t.node, t.consumer, lastTick],
      );
    } else {
      await session.execute(
        newProvider,
        providerDb,
        'select pgq.register_consumer_at($1, $2, $3)',
        [queue, t.consumer, lastTick],
      );
    }
  } catch (error) {
    if (error instanceof CascadeError) throw error;
    throw new CascadeError(
      'SUBSCRIBE_FAILED',
      `cannot subscribe ${t.consumer} of node ${t.node} on ${newProvider} at tick ${lastTick}: ${(error as Error).message}`,
      { queue, node: t.node, consumer: t.consumer, provider: newProvider, tick: lastTick },
      { cause: error },
    );
  }
}

/** The old subscription only holds events back now; failing to drop it is worth a warning. */
async function unsubscribeOld(session: AdminSession, t: Target, oldProvider: string) {
  if (oldProvider === t.node) return;
  try {
    const db = await session.db(oldProvider);
    if (t.isWorker) {
      await session.change(
        oldProvider,
        db,
        'select * from pgq_node.unregister_subscriber($1, $2)',
        [session.queue, t.node],
      );
    } else {
      await session.execute(oldProvider, db, 'select pgq.unregister_consumer($1, $2)', [
        session.queue,
        t.consumer,
      ]);
    }
  } catch (error) {
    session.out.warn(
      `could not unregister ${t.consumer} of node ${t.node} from old provider ${oldProvider}: ${(error as Error).message}`,
    );
  }
}
