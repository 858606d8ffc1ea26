import pg from 'pg';
import { SkytoolsError } from '../errors.js';
import { describeConnection, parseConnString } from './connstring.js';

/**
 * Connect one client from a connection string (libpq key=value or URL), or from the libpq
 * environment when `connstring` is undefined, as psql does. A failure names the server it
 * tried, without the password.
 */
export async function connectClient(
  connstring: string | undefined,
  applicationName = 'skytools',
): Promise<pg.Client> {
  const config = connstring === undefined ? {} : parseConnString(connstring);
  const client = new pg.Client({ application_name: applicationName, ...config });
  // A connection that dies while idle must not crash the process; the next query reports it.
  client.on('error', () => {});
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
