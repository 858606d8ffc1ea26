/**
 * wait-root / wait-provider: block until the local worker has everything the root (or the
 * provider) had when the command started: its last tick, or, when the root holds events not
 * ticked yet, the tick after it (upstream always waits for a newer tick, which on an idle
 * queue means waiting up to ticker_idle_period for nothing).
 */
import type pg from 'pg';
import { CascadeError, getNodeInfo } from '../node-calls.js';
import type { AdminSession } from './session.js';

export interface WaitOptions {
  /** Give up after this many seconds; undefined or 0 = no limit. */
  timeoutSeconds?: number;
  pollMs?: number;
}

const PROGRESS_MS = 5000;

export async function waitForRoot(session: AdminSession, options: WaitOptions = {}) {
  await waitFor(session, 'root', options);
}

export async function waitForProvider(session: AdminSession, options: WaitOptions = {}) {
  await waitFor(session, 'provider', options);
}

async function waitFor(session: AdminSession, what: 'root' | 'provider', options: WaitOptions) {
  const { queue } = session;
  const local = await session.localInfo(true);
  const me = local.node_name as string;
  if (local.node_type === 'root') {
    session.out.print(`node ${me} is the root, no need to wait`);
    return;
  }
  const target = what === 'root' ? await findRoot(session) : (local.provider_node as string);
  const targetDb = await session.db(target);
  const targetInfo = await getNodeInfo(targetDb, queue);
  const tick = BigInt(targetInfo.worker_last_tick ?? '0');
  // Events on the root after its last tick arrive with the next tick: wait for that one.
  const untick = targetInfo.node_type === 'root' ? await newEvents(targetDb, queue) : 0n;
  const goal = untick > 0n ? tick + 1n : tick;
  session.out.info(
    `waiting for node ${me} to reach tick ${goal} of ${what} ${target}${untick > 0n ? ` (${untick} events not ticked yet)` : ''}`,
  );
  const localDb = await session.local();
  const started = Date.now();
  let lastProgress = started;
  for (;;) {
    const now = await getNodeInfo(localDb, queue);
    const at = BigInt(now.worker_last_tick ?? '0');
    if (at >= goal) {
      session.out.print(`node ${me} at tick ${at}, caught up with ${what} ${target}`);
      return;
    }
    const elapsed = Date.now() - started;
    if (options.timeoutSeconds && elapsed >= options.timeoutSeconds * 1000) {
      throw new CascadeError(
        'WAIT_TIMEOUT',
        `node ${me} did not reach tick ${goal} of ${what} ${target} within ${options.timeoutSeconds} s (at tick ${at}; is its worker running, and the root's ticker?)`,
        { queue, node: me, tick: String(at), goal: String(goal) },
      );
    }
    if (Date.now() - lastProgress >= PROGRESS_MS) {
      lastProgress = Date.now();
      session.out.info(
        `still waiting: node ${me} at tick ${at}, needs ${goal} (${Math.round(elapsed / 1000)} s)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  }
}

async function newEvents(db: pg.Client, queue: string): Promise<bigint> {
  const { rows } = await db.query<{ ev_new: string | null }>(
    'select ev_new::text from pgq.get_queue_info($1)',
    [queue],
  );
  return BigInt(rows[0]?.ev_new ?? '0');
}

/** Follow providers up from the local node. */
async function findRoot(session: AdminSession): Promise<string> {
  let info = await session.localInfo();
  const seen = new Set<string>();
  while (info.node_type !== 'root') {
    const next = info.provider_node as string;
    if (seen.has(next)) {
      throw new CascadeError(
        'PROVIDER_LOOP',
        `providers of queue ${session.queue} form a loop at ${next}`,
        {
          queue: session.queue,
          node: next,
        },
      );
    }
    seen.add(next);
    info = await getNodeInfo(await session.db(next), session.queue);
  }
  return info.node_name as string;
}
