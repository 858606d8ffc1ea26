import type pg from 'pg';
import { type ConnectionSource, openClient } from '../db/connect.js';

export type { ConnectionSource };

/**
 * The consumer's own session (it holds the advisory lock and LISTENs, so it cannot come from
 * a pool), opened by the one opener of `src/db` (keepalive and the dead-link check on).
 * `onBroken` is called once when the connection fails or ends.
 */
export function openConsumerClient(
  source: ConnectionSource,
  applicationName: string,
  onBroken: () => void,
): Promise<pg.Client> {
  return openClient(source, { applicationName, onBroken });
}

// SQLSTATEs that mean the session is gone: connection exceptions (class 08), administrator or
// crash shutdown, server starting up; and the socket errors of a dropped connection.
const lostSession = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

/** A loss of the session reported by the server or the socket (see also `onBroken`). */
export function isSessionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return code.startsWith('08') || lostSession.has(code) || code === 'CONNECT_FAILED';
}
