/**
 * `shard` (alias `part`): one root's rows spread over several replicas by a hash of a key.
 * On the root the trigger adds `ev_extra3 = 'hash=' || <hash_expr>` to each event, where
 * the default expression is `<shard_hash_func>(<key>)` (INI `shard_hash_func`, upstream's
 * default `partconf.get_hash_raw`; a name without schema is in `public`, as upstream). Each replica reads its shard from `shard_info_sql` (INI;
 * default `select shard_nr, shard_mask, shard_count from partconf.conf`), checks it (count
 * a power of two, mask = count - 1, 0 <= nr < count) and then applies, copies and (on a
 * branch) forwards only the rows with `(hash & shard_mask) = shard_nr`; events without a
 * hash are everybody's. `disable_replay=1`: nothing applied, nothing copied.
 */
import type pg from 'pg';
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import type { Event, EventRow } from '../../pgq/event.js';
import type {
  ApplyContext,
  CopyContext,
  CopyResult,
  HandlerFactory,
  HandlerTable,
} from '../handler.js';
import { quoteFqname } from '../table-names.js';
import { badArgument, flagArg } from './args.js';
import { LondisteTableHandler } from './londiste.js';

const defaultHashFunc = 'partconf.get_hash_raw';
const defaultInfoSql = 'select shard_nr, shard_mask, shard_count from partconf.conf';

export interface ShardInfo {
  nr: bigint;
  mask: bigint;
  count: bigint;
}

/** Read and check the node's shard. */
export async function loadShardInfo(db: pg.ClientBase, sql: string): Promise<ShardInfo> {
  const { rows } = await db.query(sql);
  const row = rows[0] as Record<string, unknown> | undefined;
  const num = (name: string) => {
    const value = row?.[name];
    if (value === undefined || value === null || !/^-?\d+$/.test(String(value))) {
      throw new SkytoolsError('BAD_SHARD_INFO', 'Invalid shard info', {
        sql,
        row: row ?? null,
        reason: `shard_info_sql gives no integer ${name}`,
      });
    }
    return BigInt(String(value));
  };
  const info = { nr: num('shard_nr'), mask: num('shard_mask'), count: num('shard_count') };
  if (info.count <= 0n || (info.count & info.mask) !== 0n || info.mask + 1n !== info.count) {
    throw new SkytoolsError('BAD_SHARD_INFO', 'Invalid shard info', {
      sql,
      shard: { nr: String(info.nr), mask: String(info.mask), count: String(info.count) },
      reason: 'shard_count must be a power of two and shard_mask = shard_count - 1',
    });
  }
  if (info.nr < 0n || info.nr >= info.count) {
    throw new SkytoolsError('BAD_SHARD_INFO', 'Invalid shard nr', {
      sql,
      shard: { nr: String(info.nr), count: String(info.count) },
      reason: 'shard_nr must be >= 0 and < shard_count',
    });
  }
  return info;
}

export class ShardHandler extends LondisteTableHandler {
  readonly hashExpr: string;
  readonly disableReplay: boolean;
  readonly #infoSql: string;
  #info: ShardInfo | null = null;

  constructor(table: HandlerTable) {
    super(table);
    const key = table.args.hash_key ?? table.args.key;
    const expr = table.args.hash_expr;
    if ((key === undefined || key === '') && (expr === undefined || expr === '')) {
      throw new SkytoolsError('BAD_HANDLER_ARG', 'Specify hash key field as hash_key argument', {
        handler: 'shard',
        table: table.tableName,
      });
    }
    if (expr !== undefined && expr.trim() === '') {
      throw badArgument('shard', table, 'hash_expr', expr, 'an empty expression');
    }
    const func = table.config?.shard_hash_func ?? defaultHashFunc;
    this.hashExpr = expr ?? `${quoteFqname(func)}(${quoteIdent(key as string)})`;
    this.disableReplay = flagArg('shard', table, 'disable_replay');
    this.#infoSql = table.config?.shard_info_sql ?? defaultInfoSql;
    // Nothing to copy: the copy only marks the table copied.
    if (this.disableReplay) this.copy = async () => ({ rows: 0, bytes: 0 });
  }

  declare copy?: (ctx: CopyContext) => Promise<CopyResult>;

  addTriggerArgs(args: string[]): string[] {
    return [...args, `ev_extra3='hash='||${this.hashExpr}`];
  }

  override needsTable(): boolean {
    return !this.disableReplay;
  }

  async prepareBatch(ctx: ApplyContext): Promise<void> {
    if (!this.disableReplay) this.#info ??= await loadShardInfo(ctx.client, this.#infoSql);
  }

  /** Whether the event's row is this node's (events without a hash are everybody's). */
  isLocal(event: Event): boolean {
    const extra = event.extra3;
    if (extra === null || !extra.startsWith('hash=')) return true;
    const info = this.#info;
    if (info === null) {
      throw new SkytoolsError('BAD_SHARD_INFO', 'shard info not loaded before the events', {});
    }
    let hash: bigint;
    try {
      hash = BigInt(extra.slice(5));
    } catch {
      throw new SkytoolsError('BAD_EVENT', `event ${event.id}: bad hash in ev_extra3: ${extra}`, {
        eventId: event.id,
      });
    }
    return (hash & info.mask) === info.nr;
  }

  override processEvent(ctx: ApplyContext, event: Event): void | Promise<void> {
    if (this.disableReplay || !this.isLocal(event)) return;
    return super.processEvent(ctx, event);
  }

  override async truncate(ctx: ApplyContext): Promise<void> {
    if (!this.disableReplay) await super.truncate(ctx);
  }

  override async copyCondition(local?: pg.ClientBase): Promise<string | null> {
    if (this.disableReplay) return 'false';
    if (local === undefined) {
      throw new SkytoolsError(
        'BAD_SHARD_INFO',
        'the shard handler needs the node to read its shard',
        {},
      );
    }
    this.#info ??= await loadShardInfo(local, this.#infoSql);
    return `(${this.hashExpr} & ${this.#info.mask}) = ${this.#info.nr}`;
  }

  forwardEvent(event: Event): EventRow | null {
    return this.isLocal(event) ? event.row : null;
  }
}

const description =
  'Sharding: each replica keeps the rows of its shard only.\n' +
  "The root's trigger adds ev_extra3='hash='||<hash_expr> (default <shard_hash_func>(key));\n" +
  'a replica reads shard_nr, shard_mask, shard_count with shard_info_sql and applies, copies\n' +
  'and forwards only rows with (hash & shard_mask) = shard_nr. disable_replay=1: none at all.';

const args = [
  { name: 'key', description: 'the key column the hash is made of' },
  { name: 'hash_key', description: 'the same as key' },
  { name: 'hash_expr', description: 'SQL expression of the hash, instead of the function of key' },
  { name: 'disable_replay', description: 'apply and copy nothing: 1 or 0', default: '0' },
  { name: 'ignore_truncate', description: 'ignore truncate events: 1 or 0', default: '0' },
];

export const shardHandler: HandlerFactory = {
  name: 'shard',
  description,
  args,
  create: (table) => new ShardHandler(table),
};

export const partHandler: HandlerFactory = {
  name: 'part',
  description: `${description}\nThe same handler as shard (its older name).`,
  args,
  create: (table) => new ShardHandler(table),
};
