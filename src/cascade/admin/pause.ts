/**
 * pause / resume: flip a cascaded consumer's paused flag on its target node, then wait until
 * the consumer has seen the change. set_consumer_paused clears `uptodate`; the worker sets it
 * again on its next loop, so `uptodate` true after the flip means "acknowledged". Without the
 * wait an operator could start a takeover while the worker is still mid-batch.
 */
import { CascadeError, getConsumerState } from '../node-calls.js';
import type { AdminSession } from './session.js';
import { resolveTarget, type TargetSpec } from './target.js';

export interface PauseOptions {
  /** Wait for the acknowledgement (default true). */
  wait?: boolean;
  /** Give up waiting after this many seconds; undefined or 0 = wait as long as it takes. */
  timeoutSeconds?: number;
}

const POLL_MS = 500;
const PROGRESS_MS = 5000;

export async function setPaused(
  session: AdminSession,
  target: TargetSpec,
  paused: boolean,
  options: PauseOptions = {},
): Promise<void> {
  const t = await resolveTarget(session, target);
  await session.change(t.node, t.db, 'select * from pgq_node.set_consumer_paused($1, $2, $3)', [
    session.queue,
    t.consumer,
    paused,
  ]);
  if (options.wait === false || session.dryRun) return;
  try {
    await waitAcknowledged(session, t.node, t.consumer, paused ? 'pause' : 'resume', options);
  } catch (error) {
    // The flag stays: a worker that is merely down honours it when it starts.
    if (error instanceof CascadeError && error.code === 'NOT_ACKNOWLEDGED') {
      session.out.warn(
        `the ${paused ? 'paused' : 'resumed'} flag of ${t.consumer} on ${t.node} is set; its worker takes it on its next loop`,
      );
    }
    throw error;
  }
}

/**
 * Poll get_consumer_state on the node until the consumer is uptodate. Progress goes to stderr
 * so an operator whose worker is not running sees why nothing happens.
 */
export async function waitAcknowledged(
  session: AdminSession,
  node: string,
  consumer: string,
  what: string,
  options: { timeoutSeconds?: number } = {},
): Promise<void> {
  const db = await session.db(node);
  const started = Date.now();
  let lastProgress = started;
  const limit = options.timeoutSeconds !== undefined && options.timeoutSeconds > 0;
  for (;;) {
    const state = await getConsumerState(db, session.queue, consumer);
    if (state.uptodate) {
      session.out.info(`${node}: consumer ${consumer} acknowledged ${what}`);
      return;
    }
    const now = Date.now();
    if (limit && now - started >= (options.timeoutSeconds ?? 0) * 1000) {
      throw new CascadeError(
        'NOT_ACKNOWLEDGED',
        `consumer ${consumer} on node ${node} did not acknowledge ${what} within ${options.timeoutSeconds} s (is its worker running?)`,
        { queue: session.queue, node, consumer },
      );
    }
    if (now - lastProgress >= PROGRESS_MS) {
      lastProgress = now;
      session.out.info(
        `waiting for consumer ${consumer} on node ${node} to acknowledge ${what} (${Math.round((now - started) / 1000)} s; is its worker running?)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
