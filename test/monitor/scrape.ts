import net from 'node:net';
import { expect } from 'vitest';
import { type PromText, parsePromText } from './prom-text.js';

/** A TCP port free on 127.0.0.1 right now (for a job's metrics_port). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** GET a /metrics page as Prometheus would, parsed. */
export async function scrape(url: string): Promise<PromText> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return parsePromText(await response.text());
}
