/**
 * One qadmin session: the database it is connected to, the queue commands default to
 * (`-Q`, `connect queue=...`), and queries whose values come back as the server's text,
 * as psql shows them.
 */
import type pg from 'pg';
import { openClient } from '../db/connect.js';
import { type ConnectionConfig, describeConnection, parseConnString } from '../db/connstring.js';
import { SkytoolsError } from '../errors.js';
import { isNumericType, type TextResult } from './table.js';

const asText = { getTypeParser: () => (value: string) => value };

export class QadminSession {
  private client: pg.Client | null = null;
  private source: ConnectionConfig;
  /** The queue commands use when they name none. */
  queue: string | null;

  constructor(source: ConnectionConfig, queue: string | null = null) {
    this.source = source;
    this.queue = queue;
  }

  /** `user@host:port/db` of the current connection target. */
  get label(): string {
    return describeConnection(this.source);
  }

  /** The database name for the prompt. */
  get database(): string {
    return this.label.replace(/^.*\//, '');
  }

  get connected(): boolean {
    return this.client !== null;
  }

  async connect(): Promise<void> {
    await this.close();
    this.client = await openClient(this.source, { applicationName: 'qadmin' });
  }

  /**
   * Connect elsewhere: `keywords` (libpq `key=value` text) change the current target, the
   * rest is kept. The old connection stays when the new one fails.
   */
  async reconnect(keywords: string): Promise<void> {
    const given = keywords.trim() === '' ? {} : parseConnString(keywords);
    const next: ConnectionConfig = {
      ...this.source,
      ...given,
      libpq: { ...this.source.libpq, ...given.libpq },
    };
    // A connect string replaces the target as a whole only where it names something.
    delete next.connectionString;
    const client = await openClient(next, { applicationName: 'qadmin' });
    await this.close();
    this.client = client;
    this.source = next;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private get session(): pg.Client {
    if (this.client === null) {
      throw new SkytoolsError(
        'CONNECT_FAILED',
        'not connected to a database: use "connect dbname=...;"',
      );
    }
    return this.client;
  }

  /** Rows with every value as text (or null), and which columns are numbers. */
  async rows(text: string, values: unknown[] = []): Promise<TextResult> {
    const result = await this.session.query({ text, values, types: asText, rowMode: 'array' });
    return {
      columns: (result.fields ?? []).map((field) => ({
        name: field.name,
        numeric: isNumericType(field.dataTypeID),
      })),
      rows: result.rows as (string | null)[][],
    };
  }

  /** The first column of the first row, or null. */
  async value(text: string, values: unknown[] = []): Promise<string | null> {
    const { rows } = await this.rows(text, values);
    return rows[0]?.[0] ?? null;
  }

  /** The first column of every row. */
  async list(text: string, values: unknown[] = []): Promise<string[]> {
    const { rows } = await this.rows(text, values);
    return rows.map((row) => row[0] ?? '');
  }

  /** `fn` in one transaction: all of its statements or none. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const client = this.session;
    await client.query('begin');
    try {
      const result = await fn();
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    }
  }

  /** The connected client itself (the installer needs one session). */
  get pgClient(): pg.Client {
    return this.session;
  }
}
