/**
 * The destination connection of a simple consumer: one autocommit session, opened on first
 * use and dropped after a failure (the job opens a fresh one when it tries again), or once it
 * is older than `lifetimeSeconds` (upstream's connection_lifetime).
 */
import type pg from 'pg';
import { openClient } from '../db/connect.js';
import { SkytoolsError } from '../errors.js';
import type { DstQuery } from './dst-query.js';

export class DstDatabase {
  #client: pg.Client | null = null;
  #connecting: Promise<pg.Client> | null = null;
  #openedAt = 0;

  constructor(
    private readonly connstr: string,
    private readonly applicationName: string,
    private readonly lifetimeSeconds: number | null = null,
  ) {}

  /** Close the session if it is older than its lifetime; the next statement opens a new one. */
  async expire(): Promise<void> {
    const lifetime = this.lifetimeSeconds;
    if (this.#client === null || lifetime === null) return;
    if (performance.now() - this.#openedAt >= lifetime * 1000) await this.close();
  }

  /** Run the statement with these values; errors name the event and the statement. */
  async execute(query: DstQuery, values: (string | null)[], eventId: string): Promise<void> {
    const client = await this.#connect();
    try {
      await client.query({ text: query.text, values });
    } catch (error) {
      const sql = query.text.length > 200 ? `${query.text.slice(0, 60)}...` : query.text;
      throw new SkytoolsError(
        'DST_QUERY_FAILED',
        `dst_query failed for event ${eventId}: ${(error as Error).message} [SQL: ${sql}]`,
        { event: eventId, sqlstate: (error as { code?: string }).code },
        { cause: error },
      );
    }
  }

  async #connect(): Promise<pg.Client> {
    await this.expire();
    if (this.#client !== null) return this.#client;
    this.#connecting ??= this.#open();
    try {
      this.#client = await this.#connecting;
      this.#openedAt = performance.now();
      return this.#client;
    } finally {
      this.#connecting = null;
    }
  }

  async #open(): Promise<pg.Client> {
    let opened: pg.Client | null = null;
    opened = await openClient(this.connstr, {
      applicationName: this.applicationName,
      purpose: 'dst_db',
      onBroken: () => {
        if (opened !== null && this.#client === opened) this.#client = null;
      },
    });
    return opened;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }
}
