/**
 * Ticks forced on the root while a table copy is under way, so the copy's handshake
 * (catching-up, wanna-sync, do-sync) moves at once instead of waiting for the ticker's idle
 * period (`pgq.force_tick` makes the ticker tick at its next run). The root is found by
 * walking up from the local node through each provider.
 */
import type pg from 'pg';
import { getNodeInfo } from '../../cascade/node-calls.js';
import { connectNode } from '../../cascade/node-connection.js';
import type { Logger } from '../../pgq/logger.js';

export class RootTicker {
  #root: pg.Client | null = null;
  #last = 0;

  constructor(
    private readonly queue: string,
    private readonly extraConnstr: string,
    private readonly log: Logger,
    /** At most one forced tick per this many ms. */
    private readonly minIntervalMs = 300,
  ) {}

  /** Force a tick on the root (rate-limited); a failure is logged, never thrown. */
  async force(local: pg.ClientBase): Promise<void> {
    const now = Date.now();
    if (now - this.#last < this.minIntervalMs) return;
    this.#last = now;
    try {
      const root = await this.#connect(local);
      await root.query('select pgq.force_tick($1)', [this.queue]);
    } catch (error) {
      this.log.warn({ err: error }, 'could not force a tick on the root');
      await this.close();
    }
  }

  async #connect(local: pg.ClientBase): Promise<pg.ClientBase> {
    if (this.#root !== null) return this.#root;
    let info = await getNodeInfo(local, this.queue);
    if (info.node_type === 'root') return local;
    const seen = new Set<string>();
    for (;;) {
      const location = info.provider_location as string;
      const node = info.provider_node as string;
      if (seen.has(node)) throw new Error(`provider loop at node ${node}`);
      seen.add(node);
      const client = await connectNode(
        location,
        { queue: this.queue, node },
        { extraConnstr: this.extraConnstr, applicationName: 'londiste force tick' },
      );
      client.on('error', () => {});
      try {
        info = await getNodeInfo(client, this.queue);
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      if (info.node_type === 'root') {
        this.#root = client;
        return client;
      }
      await client.end().catch(() => {});
    }
  }

  async close(): Promise<void> {
    const root = this.#root;
    this.#root = null;
    await root?.end().catch(() => {});
  }
}
