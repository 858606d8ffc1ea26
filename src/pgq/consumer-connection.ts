import pg from 'pg';
import { describeConnection, parseConnString } from '../db/connstring.js';
import { failureOf, isConnectionLost } from '../db/database-error.js';
import { SkytoolsError } from '../errors.js';

/** Where a consumer connects: a libpq key=value string or URL, or pg client settings. */
export type ConnectionSource = string | pg.ClientConfig;

/**
 * The consumer's own session (it holds the advisory lock and LISTENs, so it cannot come from
 * a pool), with TCP keepalive so a silently dead server is noticed. `onBroken` is called once
 * when the connection fails or ends.
 */
export async function openConsumerClient(
  source: ConnectionSource,
  applicationName: string,
  onBroken: () => void,
): Promise<pg.Client> {
  const config = typeof source === 'string' ? parseConnString(source) : source;
  const client = new pg.Client({ ...config, application_name: applicationName, keepAlive: true });
  let broken = false;
  const mark = () => {
    if (broken) return;
    broken = true;
    onBroken();
  };
  // An idle connection's failure must not crash the process: it is noticed here instead.
  client.on('error', mark);
  client.on('end', mark);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new SkytoolsError(
      'CONNECT_FAILED',
      `cannot connect to ${describeConnection(config)}: ${(error as Error).message}`,
      { server: describeConnection(config) },
      { cause: error },
    );
  }
  return client;
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
