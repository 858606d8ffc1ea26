import pg from 'pg';
import { connectClient } from '../db/connect.js';
import { describeConnection } from '../db/connstring.js';
import { SkytoolsError } from '../errors.js';

/** Where a consumer connects: a libpq key=value string or URL, or pg client settings. */
export type ConnectionSource = string | pg.ClientConfig;

/**
 * The consumer's own session (it holds the advisory lock and LISTENs, so it cannot come from
 * a pool). `onBroken` is called once when the connection fails or ends.
 */
export async function openConsumerClient(
  source: ConnectionSource,
  applicationName: string,
  onBroken: () => void,
): Promise<pg.Client> {
  let client: pg.Client;
  if (typeof source === 'string') {
    client = await connectClient(source, applicationName);
  } else {
    client = new pg.Client({ ...source, application_name: applicationName });
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => {});
      throw new SkytoolsError(
        'CONNECT_FAILED',
        `cannot connect to ${describeConnection(source)}: ${(error as Error).message}`,
        { server: describeConnection(source) },
        { cause: error },
      );
    }
  }
  let broken = false;
  const mark = () => {
    if (broken) return;
    broken = true;
    onBroken();
  };
  client.on('error', mark);
  client.on('end', mark);
  return client;
}

// SQLSTATEs that mean the session is gone: connection exceptions (class 08), administrator or
// crash shutdown, server starting up.
const lostSession = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

/** A server-reported loss of the session; driver-level failures are seen through `onBroken`. */
export function isSessionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return code.startsWith('08') || lostSession.has(code) || code === 'CONNECT_FAILED';
}
