/**
 * The session a worker or cascaded consumer keeps to its own node's database. It holds the
 * advisory lock that makes it the only one of its name; a session this object opened before
 * and lost (the server may not have noticed yet) is ended, any other holder refuses the start.
 */
import type pg from 'pg';
import { type ConnectionSource, openConsumerClient } from '../pgq/consumer-connection.js';
import { sleep } from '../pgq/wakeup.js';
import { nodeLockHolderSql, nodeLockSql } from './cascade-sql.js';
import type { CascadeError } from './node-calls.js';

export class LocalNode {
  #client: pg.Client | null = null;
  #broken = false;
  #pid: number | null = null;

  constructor(
    readonly source: ConnectionSource,
    readonly applicationName: string,
    /** (kind, name) of the advisory lock, with a message for a refusal; null: no lock. */
    readonly lock: {
      key: [string, string];
      refusal: (pid: number | undefined) => CascadeError;
    } | null,
  ) {}

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
      if (this.lock !== null) await this.#lock(client, this.lock);
    } catch (error) {
      await this.close();
      throw error;
    }
    return client;
  }

  async #lock(client: pg.Client, lock: NonNullable<LocalNode['lock']>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { rows } = await client.query<{ locked: boolean; pid: number }>(nodeLockSql, lock.key);
      if (rows[0]?.locked === true) {
        this.#pid = rows[0].pid;
        return;
      }
      const holder = await client.query<{ pid: number }>(nodeLockHolderSql, lock.key);
      const pid = holder.rows[0]?.pid;
      // Our own previous session, not yet noticed gone by the server after a network failure.
      if (pid !== undefined && pid === this.#pid && attempt < 50) {
        if (attempt === 0) await client.query('select pg_terminate_backend($1)', [pid]);
        await sleep(100);
        continue;
      }
      if (pid === undefined && attempt < 5) continue; // released between the two queries
      throw lock.refusal(pid);
    }
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
