/**
 * A TCP relay to the server whose client-side sockets can be dropped while the server side
 * stays open and idle: a network failure the server does not notice.
 */
import net from 'node:net';
import { Consumer } from '../../src/pgq/consumer.js';
import type { TestDatabase } from '../harness/database.js';
import { memoryLogger } from './helpers.js';

export interface RelayOptions {
  /**
   * Cut the first connection right after it sends a message containing this text: the
   * server runs the statement, its reply never reaches the client. Later connections reach
   * the server only once it has replied, so the statement has run before anything else.
   */
  cutAfterSending?: string;
}

export function relay(host: string, port: number, options: RelayOptions = {}) {
  const pairs: { client: net.Socket; server: net.Socket }[] = [];
  const zombies: net.Socket[] = [];
  let armed = options.cutAfterSending;
  /** Resolved once the server replied on the connection cut after the marker. */
  let replied: Promise<void> = Promise.resolve();
  const cutPair = (client: net.Socket, upstream: net.Socket) => {
    upstream.unpipe(client);
    client.unpipe(upstream);
    client.destroy();
    zombies.push(upstream);
  };
  const server = net.createServer((client) => {
    client.on('error', () => {});
    // Until connected upstream the client's bytes wait in its socket (nothing reads them).
    void replied.then(() => connectUpstream(client));
  });
  const connectUpstream = (client: net.Socket) => {
    const upstream = net.connect(port, host);
    upstream.on('error', () => {});
    upstream.pipe(client);
    const marker = armed;
    if (marker === undefined) {
      client.pipe(upstream);
    } else {
      armed = undefined;
      client.on('data', (chunk: Buffer) => {
        if (client.destroyed) return;
        upstream.write(chunk);
        if (!chunk.includes(marker)) return;
        cutPair(client, upstream);
        // The client sends one statement at a time: what comes now is the marker's reply.
        replied = new Promise((resolve) => {
          upstream.once('data', () => resolve());
          upstream.resume();
        });
      });
    }
    pairs.push({ client, server: upstream });
  };
  return {
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
      ),
    /** Drop the client side of every connection so far. */
    cut: () => {
      for (const { client, server: upstream } of pairs.splice(0)) cutPair(client, upstream);
    },
    close: () => {
      for (const socket of zombies) socket.destroy();
      for (const { client, server: upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A consumer of `queue` (consumer `c`) reaching the server through a relay on `port`. */
export function relayedConsumer(
  db: TestDatabase,
  port: number,
  queue: string,
  options: { reconnectDelay: number; applicationName: string },
) {
  const log = memoryLogger();
  const seen: string[] = [];
  const stop = new AbortController();
  const consumer = new Consumer({
    connection: db.config({ host: '127.0.0.1', port }),
    queue,
    consumer: 'c',
    loopDelay: 0.05,
    logger: log,
    ...options,
  });
  let failure: unknown;
  const running = consumer
    .run((e) => void seen.push(e.data as string), { signal: stop.signal })
    .catch((error: unknown) => {
      failure = error;
    });
  return { log, seen, failure: () => failure, stop: () => stop.abort(), running };
}
