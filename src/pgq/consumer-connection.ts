import type pg from 'pg';
import { type ConnectionSource, openClient } from '../db/connect.js';
import { failureOf, isConnectionLost } from '../db/database-error.js';
import { SkytoolsError } from '../errors.js';

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

/**
 * A loss of the session reported by the server or the socket (see also `onBroken`); a connect
 * that failed for a reason a retry may cure counts too. The classes are `failureOf`'s.
 */
export function isSessionLost(error: unknown): boolean {
  if (isConnectionLost(error)) return true;
  return (
    error instanceof SkytoolsError && error.code === 'CONNECT_FAILED' && failureOf(error).transient
  );
}
