/**
 * One run of an admin command: the local node's connection, connections to other members by
 * name (looked up in the local node_location, opened once, closed at the end), the nodes the
 * operator declared dead for this run, and the dry-run switch.
 *
 * Every change an admin command makes goes through `change()`: with `--dry-run` it prints the
 * call and the node instead of running it, so a dry run shows exactly what a real one would
 * do. Reads always run, since the plan depends on them.
 */
import type pg from 'pg';
import type { QueryResultRow } from 'pg';
import { connectClient } from '../../db/connect.js';
import { redact } from '../../db/connstring.js';
import {
  CascadeError,
  callRet,
  getLocations,
  getNodeInfo,
  type NodeInfo,
  type RetRow,
} from '../node-calls.js';
import { connectNode } from '../node-connection.js';
import type { AdminHooks } from './hooks.js';

export interface AdminOutput {
  /** Results and plans, for stdout. */
  print(line: string): void;
  /** Progress and notices, for stderr. */
  info(line: string): void;
  warn(line: string): void;
}

export interface AdminSessionOptions {
  queue: string;
  /** The local node's database (INI `node_db`, or `db` for Londiste); undefined = libpq env. */
  localDb: string | undefined;
  extraConnstr?: string;
  dryRun?: boolean;
  /** `--dead NODE`: treated as unreachable for this run. */
  dead?: readonly string[];
  output: AdminOutput;
  applicationName?: string;
  /** What the tool adds to create-* and takeover (hooks.ts); none for setadm. */
  hooks?: AdminHooks;
}

export class AdminSession {
  readonly queue: string;
  readonly dryRun: boolean;
  readonly dead: ReadonlySet<string>;
  readonly out: AdminOutput;
  readonly hooks: AdminHooks;
  readonly #options: AdminSessionOptions;
  #local: pg.Client | undefined;
  #localInfo: NodeInfo | undefined;
  readonly #nodes = new Map<string, pg.Client>();

  constructor(options: AdminSessionOptions) {
    this.#options = options;
    this.queue = options.queue;
    this.dryRun = options.dryRun === true;
    this.dead = new Set(options.dead ?? []);
    this.out = options.output;
    this.hooks = options.hooks ?? {};
  }

  /** The local node's database. */
  async local(): Promise<pg.Client> {
    if (this.#local === undefined) {
      this.#local = await connectClient(this.#options.localDb, this.#applicationName());
    }
    return this.#local;
  }

  /**
   * The local node's get_node_info, read once per run unless `fresh` (positions and provider
   * change while a command runs; name and type do not). CascadeError when there is no node.
   */
  async localInfo(fresh = false): Promise<NodeInfo> {
    if (this.#localInfo === undefined || fresh) {
      this.#localInfo = await getNodeInfo(await this.local(), this.queue);
    }
    return this.#localInfo;
  }

  /**
   * A member's connection where the local node may be meant: the local connection when `name`
   * is the local node (no second connection to the same database), else `node(name)`.
   */
  async db(name: string): Promise<pg.Client> {
    const info = await this.localInfo();
    if (info.node_name === name) return this.local();
    return this.node(name);
  }

  /** A connection to a member by its public location; refuses nodes marked dead this run. */
  async node(name: string, location?: string): Promise<pg.Client> {
    const cached = this.#nodes.get(name);
    if (cached !== undefined) return cached;
    if (this.dead.has(name)) {
      throw new CascadeError('NODE_DEAD', `node ${name} is marked dead for this run (--dead)`, {
        queue: this.queue,
        node: name,
      });
    }
    const connstr = location ?? (await this.location(name));
    const client = await connectNode(
      connstr,
      { queue: this.queue, node: name },
      { extraConnstr: this.#options.extraConnstr, applicationName: this.#applicationName() },
    );
    this.#nodes.set(name, client);
    return client;
  }

  /** A member's public location as the local node knows it. */
  async location(name: string): Promise<string> {
    const members = await getLocations(await this.local(), this.queue);
    const member = members.find((m) => m.node_name === name);
    if (member === undefined) {
      throw new CascadeError(
        'UNKNOWN_NODE',
        `node ${name} is not a member of queue ${this.queue} (members: ${members.map((m) => m.node_name).join(', ') || 'none'})`,
        { queue: this.queue, node: name },
      );
    }
    return member.node_location;
  }

  /**
   * A state-changing pgq_node call on `db` (the node named `nodeName`). Dry run: print it and
   * return undefined. Otherwise run it; codes >= 400 throw, 3xx are warned, 2xx logged.
   */
  async change<R extends RetRow = RetRow>(
    nodeName: string,
    db: pg.Client,
    sql: string,
    values: unknown[],
  ): Promise<R | undefined> {
    if (this.dryRun) {
      this.out.print(`[dry-run] on ${nodeName}: ${sql} ${describeValues(values)}`);
      return undefined;
    }
    const row = await callRet<R>(db, sql, values, { queue: this.queue, node: nodeName });
    if (row.ret_code >= 300) this.out.warn(`${nodeName}: ${row.ret_note}`);
    else if (row.ret_code >= 200) this.out.info(`${nodeName}: ${row.ret_note}`);
    return row;
  }

  /**
   * A state-changing statement that does not answer (ret_code, ret_note), such as
   * pgq.register_consumer_at: same dry-run rule as `change()`, rows returned as they come.
   */
  async execute<R extends QueryResultRow = QueryResultRow>(
    nodeName: string,
    db: pg.Client,
    sql: string,
    values: unknown[],
  ): Promise<R[] | undefined> {
    if (this.dryRun) {
      this.out.print(`[dry-run] on ${nodeName}: ${sql} ${describeValues(values)}`);
      return undefined;
    }
    return (await db.query<R>(sql, values)).rows;
  }

  /** A read that every plan needs, even in a dry run. */
  async read<R extends QueryResultRow>(db: pg.Client, sql: string, values: unknown[]) {
    return (await db.query<R>(sql, values)).rows;
  }

  async close(): Promise<void> {
    const clients = [...this.#nodes.values()];
    if (this.#local !== undefined) clients.push(this.#local);
    this.#nodes.clear();
    this.#local = undefined;
    this.#localInfo = undefined;
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }

  #applicationName(): string {
    return this.#options.applicationName ?? `skytools set ${this.queue}`;
  }
}

function describeValues(values: unknown[]): string {
  return `(${values.map((v) => (v === null ? 'null' : typeof v === 'string' ? JSON.stringify(redact(v)) : String(v))).join(', ')})`;
}
