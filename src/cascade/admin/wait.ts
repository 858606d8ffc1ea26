/**
 * wait-root / wait-provider: block until the local worker has completed a tick newer than the
 * one the root (or provider) had when the command started. Strictly newer, as upstream: only
 * then is everything committed on the root before the call known to be here.
 */
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
  const targetInfo = await getNodeInfo(await session.db(target), queue);
  const goal = BigInt(targetInfo.worker_last_tick ?? '0');
  session.out.info(`waiting for node ${me} to pass tick ${goal} of ${what} ${target}`);
  const localDb = await session.local();
  const started = Date.now();
  let lastProgress = started;
  for (;;) {
    const now = await getNodeInfo(localDb, queue);
    const tick = BigInt(now.worker_last_tick ?? '0');
    if (tick > goal) {
      session.out.print(`node ${me} at tick ${tick}, past tick ${goal} of ${what} ${target}`);
      return;
    }
    const elapsed = Date.now() - started;
    if (options.timeoutSeconds && elapsed >= options.timeoutSeconds * 1000) {
      throw new CascadeError(
        'WAIT_TIMEOUT',
        `node ${me} did not pass tick ${goal} of ${what} ${target} within ${options.timeoutSeconds} s (at tick ${tick}; is its worker running, and the root's ticker?)`,
        { queue, node: me, tick: String(tick), goal: String(goal) },
      );
    }
    if (Date.now() - lastProgress >= PROGRESS_MS) {
      lastProgress = Date.now();
      session.out.info(
        `still waiting: node ${me} at tick ${tick}, needs > ${goal} (${Math.round(elapsed / 1000)} s)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  }
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
