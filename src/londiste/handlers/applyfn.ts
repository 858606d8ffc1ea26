/**
 * `applyfn` (`func_name`, `func_conf`): instead of applying a row, call a function per event
 * with upstream's arguments, in queue order, in the batch's transaction:
 *
 *   select FUNC(func_conf, tick_id, ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
 *               ev_extra1, ev_extra2, ev_extra3, ev_extra4)
 *
 * every argument a literal (untyped, as upstream sends them), so the function's own
 * parameter types decide. The table is copied as any other (the function decides what
 * replay makes of later events).
 */
import { quoteLiteral } from '../../db/quote.js';
import type { Event } from '../../pgq/event.js';
import type { ApplyContext, HandlerFactory, HandlerTable, TableHandler } from '../handler.js';
import { quoteFqname } from '../table-names.js';
import { requiredArg } from './args.js';

// Calls sent to the server in one round trip at most (upstream's SQL queue flushes at 200).
const callsPerQuery = 200;

export class ApplyFunctionHandler implements TableHandler {
  readonly func: string;
  readonly conf: string | null;
  #calls: string[] = [];

  constructor(table: HandlerTable) {
    const name = requiredArg('applyfn', table, 'func_name');
    // schema.name as Londiste names tables: no schema = public, case kept.
    this.func = quoteFqname(name);
    this.conf = table.args.func_conf ?? null;
  }

  needsTable(): boolean {
    return true;
  }

  processEvent(ctx: ApplyContext, event: Event): void | Promise<void> {
    const row = event.row;
    const args = [
      this.conf,
      ctx.tick,
      row[0], // ev_id
      row[1], // ev_time
      row[2], // ev_txid
      row[3], // ev_retry
      row[4], // ev_type
      row[5], // ev_data
      row[6],
      row[7],
      row[8],
      row[9],
    ].map((value) => quoteLiteral(value ?? null));
    this.#calls.push(`select ${this.func}(${args.join(', ')})`);
    if (this.#calls.length >= callsPerQuery) return this.flush(ctx);
  }

  async flush(ctx: ApplyContext): Promise<void> {
    while (this.#calls.length > 0) {
      const calls = this.#calls.splice(0, callsPerQuery);
      await ctx.client.query(calls.join(';\n'));
    }
  }

  discard(): void {
    this.#calls = [];
  }

  copyCondition(): string | null {
    return null;
  }
}

export const applyfnHandler: HandlerFactory = {
  name: 'applyfn',
  description:
    'Calls a function for each event instead of applying it.\n' +
    'select FUNC(func_conf, tick_id, ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,\n' +
    "ev_extra1, ev_extra2, ev_extra3, ev_extra4), in queue order, in the batch's transaction.",
  args: [
    { name: 'func_name', description: 'the function to call, schema.name (required)' },
    { name: 'func_conf', description: 'text passed as its first argument' },
  ],
  create: (table) => new ApplyFunctionHandler(table),
};
