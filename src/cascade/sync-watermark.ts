/**
 * sync_watermark (node attr `sync_watermark=n4,n5`, §2.4): branches that must be able to
 * replace each other keep their global watermark at the lowest local watermark among them,
 * so neither rotates away what the other may still need; never past the root's own global
 * watermark, which the node remembers from the pgq.global-watermark events it receives.
 */
import type pg from 'pg';
import type { Logger } from '../pgq/logger.js';
import { setGlobalWatermarkSql } from './cascade-sql.js';
import { getLocations, getNodeInfo, type WorkerState } from './node-calls.js';
import { connectNode } from './node-connection.js';

export class SyncWatermark {
  #peers: string[] = [];
  #rootWatermark: string | null = null;

  constructor(
    readonly queue: string,
    readonly extraConnstr: string,
    readonly log: Logger,
  ) {}

  get active(): boolean {
    return this.#peers.length > 0;
  }

  /** Read the peer list from the node's attributes (urlencoded `key=value&...`). */
  async configure(nodeAttrs: string | null): Promise<void> {
    const value = new URLSearchParams(nodeAttrs ?? '').get('sync_watermark');
    this.#peers = value === null || value === '' ? [] : value.split(',').map((n) => n.trim());
  }

  remember(watermark: string): void {
    this.#rootWatermark = watermark;
  }

  /** Move the node's global watermark to min(peers' local watermarks, root's watermark). */
  async apply(local: pg.ClientBase, state: WorkerState): Promise<void> {
    const cap = this.#rootWatermark;
    if (cap === null) return; // no word from the root yet: moving on our own could lose data
    const locations = new Map((await getLocations(local, this.queue)).map((l) => [l.node_name, l]));
    let lowest = Number(cap);
    for (const peer of this.#peers) {
      const watermark =
        peer === state.node_name
          ? state.local_watermark
          : await this.#peerWatermark(peer, locations);
      if (watermark === null) return;
      lowest = Math.min(lowest, Number(watermark));
    }
    await local.query(setGlobalWatermarkSql, [this.queue, String(lowest)]);
    this.log.debug({ watermark: lowest, peers: this.#peers }, 'sync watermark applied');
  }

  async #peerWatermark(
    peer: string,
    locations: Map<string, { node_location: string; dead: boolean }>,
  ): Promise<string | null> {
    const location = locations.get(peer);
    if (location === undefined || location.dead) {
      this.log.warn({ peer }, 'sync_watermark peer unknown or dead: global watermark kept');
      return null;
    }
    const client = await connectNode(
      location.node_location,
      { queue: this.queue, node: peer },
      { extraConnstr: this.extraConnstr },
    );
    try {
      return (await getNodeInfo(client, this.queue)).local_watermark;
    } finally {
      await client.end().catch(() => {});
    }
  }
}
