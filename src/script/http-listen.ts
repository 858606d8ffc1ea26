/**
 * A small read-only HTTP endpoint (node:http): where to listen (`PORT` or `HOST:PORT`,
 * 127.0.0.1 unless told otherwise, since what it shows is internal), and a server that
 * answers GET and HEAD only. Used by a job's `metrics_port` and by the monitor commands.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SkytoolsError } from '../errors.js';

export interface ListenAddress {
  readonly host: string;
  /** 0 = any free port (tests). */
  readonly port: number;
}

export const defaultListenHost = '127.0.0.1';

/**
 * `9187`, `0.0.0.0:9187`, `[::1]:9187` or `localhost:9187`. `what` names the option or key in
 * the error (`--listen`, `metrics_port`).
 */
export function parseListen(text: string, what: string): ListenAddress {
  const value = text.trim();
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const host = match?.[1] || match?.[2] || defaultListenHost;
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SkytoolsError(
      'BAD_OPTION',
      `${what} must be PORT or HOST:PORT with a port from 0 to 65535, not "${text}"`,
      { option: what, value: text },
    );
  }
  return { host, port };
}

export type Route = (
  url: URL,
  request: http.IncomingMessage,
) => Promise<{ status?: number; type: string; body: string | Buffer } | null>;

export interface HttpEndpoint {
  /** The address it listens on (the port chosen when 0 was asked for). */
  readonly address: ListenAddress;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Listen on `address`; each GET/HEAD goes to `route`, which returns the answer or null (404).
 * A route that throws gives 500 with the error's message (a database that is down is not a
 * reason to stop serving).
 */
export async function serveHttp(
  address: ListenAddress,
  route: Route,
  onError?: (error: unknown) => void,
): Promise<HttpEndpoint> {
  const server = http.createServer((request, response) => {
    void answer(request, response);
  });
  async function answer(request: http.IncomingMessage, response: http.ServerResponse) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      response.end('read-only: GET and HEAD only\n');
      return;
    }
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const result = await route(url, request);
      if (result === null) {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found\n');
        return;
      }
      response.writeHead(result.status ?? 200, {
        'content-type': result.type,
        'cache-control': 'no-store',
      });
      response.end(request.method === 'HEAD' ? undefined : result.body);
    } catch (error) {
      onError?.(error);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`${(error as Error).message}\n`);
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new SkytoolsError(
          'PORT_IN_USE',
          `cannot listen on ${address.host}:${address.port}: ${error.message}`,
          { host: address.host, port: address.port },
          { cause: error },
        ),
      );
    });
    server.listen(address.port, address.host, () => resolve());
  });
  // Keep-alive sockets of a scraper must not hold a stopping process.
  server.keepAliveTimeout = 5000;
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    address: { host: bound.address, port: bound.port },
    url: `http://${host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
