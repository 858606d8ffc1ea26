/**
 * PostgreSQL's cancel request for a session's running statement: how a copy stops a COPY
 * whose stream it no longer reads, or an index build it no longer wants, and gets the session
 * back to a state where ROLLBACK works. Sent on a connection of its own, as libpq's PQcancel.
 */
import net from 'node:net';
import type pg from 'pg';

interface BackendKey {
  processID?: number | null;
  secretKey?: number | null;
  host?: string;
  port?: number;
}

// CancelRequest: length 16, the code 1234/5678, the backend's pid and secret key.
const cancelCode = 80877102;

/** Ask the server to cancel what `client` runs now; resolves once the request is sent. */
export async function cancelRunning(client: pg.Client): Promise<void> {
  const key = client as unknown as BackendKey;
  if (key.processID == null || key.secretKey == null) return;
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(cancelCode, 4);
  packet.writeInt32BE(key.processID, 8);
  packet.writeInt32BE(key.secretKey, 12);
  const host = key.host ?? 'localhost';
  const port = key.port ?? 5432;
  await new Promise<void>((resolve) => {
    const socket = host.startsWith('/')
      ? net.connect(`${host}/.s.PGSQL.${port}`)
      : net.connect(port, host);
    // The server reads the packet and closes; a failure to reach it leaves nothing to do
    // but let the caller's own wait for the statement end decide.
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.on('connect', () => socket.end(packet));
  });
}
