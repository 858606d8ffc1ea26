/**
 * Londiste's own events in replay (spec §6.5, §6.7): the set's table and sequence list kept
 * in step with the root (`londiste.add-table`, `remove-table`, `remove-seq`) and sequence
 * values pushed forward (`londiste.update-seq`), in the batch's transaction. The
 * register_only_* / register_skip_* settings choose which names a node takes in.
 */
import type pg from 'pg';
import { callRet } from '../../cascade/node-calls.js';
import { SkytoolsError } from '../../errors.js';
import type { Event } from '../../pgq/event.js';
import type { Logger } from '../../pgq/logger.js';
import { globMatcher } from '../table-names.js';

export interface RegisterFilters {
  registerOnlyTables: string[] | undefined;
  registerSkipTables: string[] | undefined;
  registerOnlySeqs: string[] | undefined;
  registerSkipSeqs: string[] | undefined;
}

export function isLondisteEvent(type: string | null): boolean {
  return type?.startsWith('londiste.') === true;
}

function wanted(name: string, only: string[] | undefined, skip: string[] | undefined): boolean {
  if (only !== undefined && !only.some((g) => globMatcher(g)(name))) return false;
  if (skip?.some((g) => globMatcher(g)(name))) return false;
  return true;
}

/** Refusals that say the set already is as the event wants it: logged, not fatal. */
const tolerated = 500;

export async function applyLondisteEvent(
  db: pg.ClientBase,
  queue: string,
  event: Event,
  filters: RegisterFilters,
  log: Logger,
): Promise<void> {
  const type = event.type as string;
  const context = { queue, event: type };
  const call = async (sql: string, values: unknown[]) => {
    const row = await callRet(db, sql, values, context, tolerated);
    if (row.ret_code >= 300) log.warn({ event: type }, `${type}: ${row.ret_note}`);
    else log.debug({ event: type }, `${type}: ${row.ret_note}`);
  };
  const data = event.data ?? '';
  switch (type) {
    case 'londiste.add-table':
      if (!wanted(data, filters.registerOnlyTables, filters.registerSkipTables)) return;
      return call('select * from londiste.global_add_table($1, $2)', [queue, data]);
    case 'londiste.remove-table':
      return call('select * from londiste.global_remove_table($1, $2)', [queue, data]);
    case 'londiste.remove-seq':
      return call('select * from londiste.global_remove_seq($1, $2)', [queue, data]);
    case 'londiste.update-seq': {
      const seq = event.extra1 ?? '';
      if (!wanted(seq, filters.registerOnlySeqs, filters.registerSkipSeqs)) return;
      if (!/^-?\d+$/.test(data)) {
        throw new SkytoolsError(
          'BAD_EVENT',
          `londiste.update-seq for ${seq}: value ${JSON.stringify(data)} is no integer`,
          context,
        );
      }
      return call('select * from londiste.global_update_seq($1, $2, $3)', [queue, seq, data]);
    }
    default:
      log.warn({ event: type, id: event.id }, `unknown Londiste event ${type}: ignored`);
  }
}
