/**
 * The session a worker or cascaded consumer keeps to its own node's database. It holds the
 * advisory lock that makes it the only one of its name; a session this object opened before
 * and lost (the server may not have noticed yet) is ended, any other holder refuses the start.
 */
import type pg from 'pg';
import { describeConnection, parseConnString } from '../db/connstring.js';
import { type ConnectionSource, openConsumerClient } from '../pgq/consumer-connection.js';
import { SessionLock } from '../pgq/session-lock.js';
import type { CascadeError } from './node-calls.js';

export class LocalNode {
  #client: pg.Client | null = null;
  #broken = false;
  readonly #sessionLock: SessionLock | null;

  constructor(
    readonly source: ConnectionSource,
    readonly applicationName: string,
    /** (kind, name) of the advisory lock, with a message for a refusal; null: no lock. */
    readonly lock: {
      key: [string, string];
      refusal: (pid: number | undefined) => CascadeError;
    } | null,
  ) {
    this.#sessionLock = lock === null ? null : new SessionLock(lock.key, lock.refusal);
  }

  /** The database, for messages (never a password). */
  get name(): string {
    return describeConnection(
      typeof this.source === 'string' ? parseConnString(this.source) : this.source,
    );
  }

  get open(): boolean {
    return this.#client !== null && !this.#broken;
  }

  async connect(): Promise<pg.Client> {
    if (this.#client !== null && !this.#broken) return this.#client;
    await this.close();
    let opened: pg.Client | null = null;
    const client = await openConsumerClient(this.source, this.applicationName, () => {
      if (opened !== null && this.#client === opened) this.#broken = true;
    });
    opened = client;
    this.#broken = false;
    this.#client = client;
    try {
      await this.#sessionLock?.take(client);
    } catch (error) {
      await this.close();
      throw error;
    }
    return client;
  }

  /** A session for recording an error: the worker's own if healthy, else a short one. */
  async withSession<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    if (this.#client !== null && !this.#broken) return fn(this.#client);
    const client = await openConsumerClient(this.source, this.applicationName, () => {});
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (client !== null) await client.end().catch(() => {});
  }
}
