/**
 * Ticks forced on the root while a table copy waits for one, so the copy's handshake moves
 * at once instead of waiting for the ticker's idle period (`pgq.force_tick` makes the ticker
 * tick at its next run). Only an idle process forces (one that has no batch to read): a
 * worker with batches in hand has the ticks it needs, and more ticks would only add empty
 * batches. The root is found by walking up from the local node through each provider.
 */
import type pg from 'pg';
import { getNodeInfo } from '../../cascade/node-calls.js';
import { connectNode } from '../../cascade/node-connection.js';
import { type ConnectionSource, openClient } from '../../db/connect.js';
import type { Logger } from '../../pgq/logger.js';

export class RootTicker {
  #root: pg.Client | null = null;
  /** The connection being made: a second force meanwhile waits for it (one session only). */
  #connecting: Promise<pg.Client> | null = null;
  #last = 0;

  constructor(
    private readonly connection: ConnectionSource,
    private readonly queue: string,
    private readonly extraConnstr: string,
    private readonly log: Logger,
    /** At most one forced tick per this many ms. */
    private readonly minIntervalMs = 1000,
  ) {}

  /** Force a tick on the root (rate-limited); a failure is logged, never thrown. */
  async force(): Promise<void> {
    const now = Date.now();
    if (now - this.#last < this.minIntervalMs) return;
    this.#last = now;
    try {
      const root = await this.#connect();
      await root.query('select pgq.force_tick($1)', [this.queue]);
    } catch (error) {
      this.log.warn({ err: error }, 'could not force a tick on the root');
      await this.close();
    }
  }

  async #connect(): Promise<pg.ClientBase> {
    if (this.#root !== null) return this.#root;
    this.#connecting ??= this.#walkToRoot().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #walkToRoot(): Promise<pg.Client> {
    let client = await openClient(this.connection, { applicationName: 'londiste force tick' });
    client.on('error', () => {});
    const seen = new Set<string>();
    try {
      for (;;) {
        const info = await getNodeInfo(client, this.queue);
        if (info.node_type === 'root') {
          this.#root = client;
          return client;
        }
        const node = info.provider_node as string;
        if (seen.has(node)) throw new Error(`provider loop at node ${node}`);
        seen.add(node);
        const next = await connectNode(
          info.provider_location as string,
          { queue: this.queue, node },
          { extraConnstr: this.extraConnstr, applicationName: 'londiste force tick' },
        );
        next.on('error', () => {});
        await client.end().catch(() => {});
        client = next;
      }
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#connecting?.catch(() => {});
    const root = this.#root;
    this.#root = null;
    await root?.end().catch(() => {});
  }
}
