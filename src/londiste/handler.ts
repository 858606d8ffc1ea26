/**
 * The handler of a replicated table (spec §6.5): what it adds to the trigger at add-table,
 * whether it needs a physical table, how it applies a batch's events, what part of the table
 * a copy takes and how, and what a branch forwards. Stored as the table attribute
 * `handler=name(k=v&k2=v2)`, as upstream stores it; `londiste` is the default.
 *
 * The worker hands a handler the data events of its table in queue order and asks it to
 * `flush` before anything whose order matters across tables (a truncate, an EXECUTE, a
 * londiste.* event) and at the end of each batch; a handler may buffer between flushes
 * (the default one turns a run of events into set-based statements).
 */
import type pg from 'pg';
import type { Event, EventRow } from '../pgq/event.js';
import type { Logger } from '../pgq/logger.js';

/** One documented argument of a handler (`--handler-arg=name=value`). */
export interface HandlerArgument {
  name: string;
  description: string;
  /** Shown in show-handlers; the handler applies it itself. */
  default?: string;
}

/** What a handler instance is made for: one table on one node. */
export interface HandlerTable {
  /** The set's name of the table (`schema.name`). */
  tableName: string;
  /** Where its events are applied: the dest table or the table itself. */
  destTable: string;
  /** The handler's arguments, checked against the factory's list. */
  args: Readonly<Record<string, string>>;
  /**
   * The tool's settings for handlers (INI keys `shard_hash_func`, `shard_info_sql`,
   * `obfuscator_map`, `obfuscator_key`), as upstream's class-level config; absent = none.
   */
  config?: Readonly<Record<string, string>>;
}

/** What a handler gets while a batch is applied. */
export interface ApplyContext {
  /** The subscriber's session, inside the batch's transaction. */
  readonly client: pg.Client;
  readonly queue: string;
  readonly batchId: number;
  readonly tick: string;
  /** The batch's tick time (the provider's); absent where a caller has none. */
  readonly tickTime?: Date;
  readonly log: Logger;
}

/** What a handler gets for a copy. */
export interface CopyContext {
  /** The source session, in the REPEATABLE READ transaction of the copy. */
  readonly source: pg.Client;
  /** The destination session, in the copy's transaction. */
  readonly dest: pg.Client;
  /** The common columns, quoted, in the order to copy them. */
  readonly columns: readonly string[];
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

export interface CopyResult {
  rows: number;
  bytes: number;
}

export interface TableHandler {
  /**
   * Arguments for the table's trigger at add-table (`pgq.logutriga` args, and Londiste's own
   * words `skip`, `virtual_table`, `expect_sync`, `no_triggers`, ...), given the ones the
   * operator asked for.
   */
  addTriggerArgs?(args: string[]): string[];
  /** Whether the table must exist here (false for a handler that stores nothing). */
  needsTable(): boolean;
  /**
   * Whether the table here holds the source's rows as they are, so another node may copy
   * from it (`--find-copy-node`); absent = it does when it needs a table. False for the
   * handlers that rewrite rows (obfuscate, dispatch into partitions or other columns).
   */
  sourceRows?(): boolean;
  /** Before the batch's first event of this table. */
  prepareBatch?(ctx: ApplyContext): Promise<void>;
  /** One data event of the table (I/U/D, `I:pk`, JSON, partial SQL), in queue order. */
  processEvent(ctx: ApplyContext, event: Event): void | Promise<void>;
  /** Apply what is buffered; called before order-sensitive events and at the batch's end. */
  flush(ctx: ApplyContext): Promise<void>;
  /** After the batch's last flush, still in its transaction. */
  finishBatch?(ctx: ApplyContext): Promise<void>;
  /**
   * An SQL condition for the rows a copy takes and a compare counts; null = every row.
   * `local` is the node's own session (where, e.g., the shard handler reads its shard).
   */
  copyCondition(local?: pg.ClientBase): string | null | Promise<string | null>;
  /** The copy itself; absent = the default COPY stream of the copy condition's rows. */
  copy?(ctx: CopyContext): Promise<CopyResult>;
  /** On a branch: the row to forward in place of `event`, or null to drop it. */
  forwardEvent?(event: Event): EventRow | null;
}

/** A handler by name: its help and arguments, and how to make one for a table. */
export interface HandlerFactory {
  name: string;
  /** First line: the summary show-handlers lists; the rest: the full help. */
  description: string;
  args: readonly HandlerArgument[];
  create(table: HandlerTable): TableHandler;
}
