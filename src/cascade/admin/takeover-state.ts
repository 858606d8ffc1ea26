/**
 * What takeover reads about the members while it plans and runs: node infos by name, who
 * reads from whom, tick positions and their times, and the waits for a worker to reach a
 * tick. Tick ids are int8 and compared as bigint: they may pass 2^53.
 */
import { CascadeError, getLocations, getNodeInfo, type NodeInfo } from '../node-calls.js';
import type { AdminSession } from './session.js';

const POLL_MS = 300;
const PROGRESS_MS = 5000;

/** get_node_info of a member by name (the local connection for the local node). */
export async function memberInfo(session: AdminSession, name: string): Promise<NodeInfo> {
  const info = await getNodeInfo(await session.db(name), session.queue);
  if (info.node_name !== name) {
    throw new CascadeError(
      'LOCATION_MISMATCH',
      `the location registered for node ${name} reaches node ${info.node_name ?? '(none)'} of queue ${session.queue}`,
      { queue: session.queue, node: name },
    );
  }
  return info;
}

export interface MemberState {
  name: string;
  info: NodeInfo;
}

/**
 * Every member that answers, except `skip`: the node name and its get_node_info. Members
 * tagged dead or declared --dead are not tried; one that does not answer is warned about.
 */
export async function liveMembers(
  session: AdminSession,
  skip: ReadonlySet<string>,
): Promise<MemberState[]> {
  const members = await getLocations(await session.local(), session.queue);
  const states: MemberState[] = [];
  for (const member of members) {
    if (skip.has(member.node_name) || member.dead || session.dead.has(member.node_name)) continue;
    try {
      states.push({ name: member.node_name, info: await memberInfo(session, member.node_name) });
    } catch (error) {
      session.out.warn(`node ${member.node_name} skipped: ${(error as Error).message}`);
    }
  }
  return states;
}

/** The members that answer and whose worker reads from `provider`. */
export async function subscribersOf(
  session: AdminSession,
  provider: string,
  skip: ReadonlySet<string>,
): Promise<MemberState[]> {
  const members = await liveMembers(session, new Set([...skip, provider]));
  return members.filter((m) => m.info.provider_node === provider && m.info.node_type !== 'root');
}

export function tickOf(value: string | null | undefined): bigint {
  return value === null || value === undefined ? -1n : BigInt(value);
}

/**
 * Poll until the worker of `name` has completed `tick`. Progress on stderr, with the
 * worker's error and pause state, so an operator sees why a wait does not end.
 */
export async function waitForTick(
  session: AdminSession,
  name: string,
  tick: bigint,
): Promise<void> {
  if (session.dryRun) {
    session.out.print(`[dry-run] would wait until node ${name} has completed tick ${tick}`);
    return;
  }
  const started = Date.now();
  let lastProgress = started;
  for (;;) {
    const info = await memberInfo(session, name);
    const at = tickOf(info.worker_last_tick);
    if (at >= tick) {
      session.out.info(`${name}: worker has completed tick ${at} (needed ${tick})`);
      return;
    }
    const now = Date.now();
    if (now - lastProgress >= PROGRESS_MS) {
      lastProgress = now;
      const state = await workerProblem(session, info);
      session.out.info(
        `waiting for node ${name} to reach tick ${tick}: at ${at} after ${Math.round((now - started) / 1000)} s${state}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function workerProblem(session: AdminSession, info: NodeInfo) {
  const error = await workerError(session, info);
  return `${info.worker_paused ? ', worker PAUSED' : ''}${error ? `, worker error: ${error.split('\n')[0]}` : ''}`;
}

/** The worker's last error on its node, or null. */
export async function workerError(session: AdminSession, info: NodeInfo): Promise<string | null> {
  const name = info.node_name ?? '';
  const { rows } = await (await session.db(name)).query<{ cur_error: string | null }>(
    'select cur_error from pgq_node.get_consumer_info($1) where consumer_name = $2',
    [session.queue, info.worker_name],
  );
  return rows[0]?.cur_error ?? null;
}
