/**
 * The dead-link check of a client: TCP keepalive alone does not notice a half-open connection
 * (packets dropped, nothing refused) while a query is on its way, since the kernel then
 * retransmits the query for up to ~15 minutes instead of probing, and Node cannot set
 * TCP_USER_TIMEOUT, nor (before libuv 1.49) the probe interval and count.
 *
 * So the client is watched: when a query has waited `silenceMs` without one byte arriving,
 * a second short session asks the server about the first one's backend. The link is declared
 * dead, and the client's socket destroyed (its query fails, its `error` listeners run), when
 * that session cannot be opened within `silenceMs` (the server is unreachable), or when the
 * backend is gone or is not running a query (so the query or its reply was lost). A backend
 * still running the query is a long query: waiting goes on. A probe refused by the server
 * itself (too many connections, say) proves the path works and decides nothing.
 */
import type { Socket } from 'node:net';
import pg from 'pg';
import { SkytoolsError } from '../errors.js';

export interface LinkWatchSettings {
  /** Silence of a waiting query after which the link is checked, in ms. */
  silenceMs: number;
  /** Settings for the probe session (same server, user and TLS). */
  probeConfig: pg.ClientConfig;
  /** `user@host:port/db`, for the error. */
  label: string;
}

interface ClientInternals {
  connection: { stream: Socket };
  processID: number | null;
  _activeQuery: unknown;
  _queryQueue: unknown[];
}

/** Watch `client` (already connected) until it ends. */
export function watchLink(client: pg.Client, settings: LinkWatchSettings): void {
  const inner = client as unknown as ClientInternals;
  const stream = inner.connection.stream;
  // Counted by the socket, not by a 'data' listener: pg-copy-streams takes over the stream
  // and insists on being its only reader.
  const received = () => stream.bytesRead;
  let silentSince = performance.now();
  let seen = 0;
  let probing = false;
  const busy = () => inner._activeQuery != null || inner._queryQueue.length > 0;
  const kill = (reason: string) => {
    const silent = Math.round((performance.now() - silentSince) / 1000);
    const error = new SkytoolsError(
      'CONNECTION_LOST',
      `connection to ${settings.label} lost: no reply for ${silent} s, and ${reason}`,
      { server: settings.label, silentSeconds: silent },
    );
    stream.destroy(error);
  };
  const probe = async () => {
    probing = true;
    const before = received();
    const verdict = await askServer(settings, inner.processID);
    probing = false;
    if (received() !== before || !busy()) return;
    if (verdict === null) silentSince = performance.now();
    else kill(verdict);
  };
  const tick = () => {
    if (!busy() || received() !== seen) {
      seen = received();
      silentSince = performance.now();
      return;
    }
    if (!probing && performance.now() - silentSince >= settings.silenceMs) void probe();
  };
  const cancel = schedule(Math.max(100, Math.min(1000, settings.silenceMs / 4)), tick);
  stream.once('close', cancel);
}

/**
 * One timer per check period for every watched client: a daemon with a connection per
 * database (pgqd) wakes once per period, not once per connection, while it is idle.
 */
const groups = new Map<number, { timer: NodeJS.Timeout; checks: Set<() => void> }>();

function schedule(periodMs: number, check: () => void): () => void {
  let group = groups.get(periodMs);
  if (!group) {
    const checks = new Set<() => void>();
    const timer = setInterval(() => {
      for (const each of checks) each();
    }, periodMs);
    timer.unref();
    group = { timer, checks };
    groups.set(periodMs, group);
  }
  const own = group;
  own.checks.add(check);
  return () => {
    own.checks.delete(check);
    if (own.checks.size === 0 && groups.get(periodMs) === own) {
      clearInterval(own.timer);
      groups.delete(periodMs);
    }
  };
}

/** Null when the backend is running a query (a long one); else why the link is dead. */
async function askServer(settings: LinkWatchSettings, pid: number | null): Promise<string | null> {
  const probe = new pg.Client({
    ...settings.probeConfig,
    connectionTimeoutMillis: settings.silenceMs,
    query_timeout: settings.silenceMs,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    const { rows } = await probe.query<{ state: string | null }>(
      'select state from pg_stat_activity where pid = $1',
      [pid],
    );
    const state = rows[0]?.state;
    if (state === undefined) return `its server process ${pid} is gone`;
    if (state === 'active') return null;
    return `its server process ${pid} is not running a query (${state ?? 'unknown'})`;
  } catch (error) {
    // A refusal by the server itself came over the network: the server is reachable.
    if (error instanceof pg.DatabaseError) return null;
    return `the server does not answer a new connection (${(error as Error).message})`;
  } finally {
    await probe.end().catch(() => {});
  }
}
