/**
 * The replay of an EXECUTE event (spec §6.6) at its queue position, inside the batch's
 * transaction: role `local` (the script's own changes make no events), execute_start
 * (skipped when this database ran the file already), the attribute lines of the script
 * checked against the local tables and objects (`--*-- Need-Table: ...`), the statements run
 * with `@name@` tags replaced, execute_finish, and back to `replica`.
 */
import type pg from 'pg';
import { callRet } from '../../cascade/node-calls.js';
import { quoteIdent } from '../../db/quote.js';
import type { Event } from '../../pgq/event.js';
import type { Logger } from '../../pgq/logger.js';
import { needExecute, parseExecuteAttrs, replaceTags } from '../execute/attrs.js';
import { runScript } from '../execute/run-script.js';
import type { TableInfo } from '../table-state.js';

export async function replayExecute(
  db: pg.ClientBase,
  queue: string,
  event: Event,
  tables: ReadonlyMap<string, TableInfo>,
  log: Logger,
): Promise<void> {
  const file = event.extra1 ?? '';
  const sql = event.data ?? '';
  const context = { queue, file };
  await db.query("select londiste.set_session_replication_role('local', true)");
  const start = await callRet(
    db,
    'select * from londiste.execute_start($1, $2, $3, false, $4)',
    [queue, file, sql, event.extra2],
    context,
  );
  if (start.ret_code > 200) {
    log.warn({ file }, `Skipping execution of ${quoteIdent(file)}: ${start.ret_note}`);
  } else {
    const attrs = parseExecuteAttrs(event.extra2);
    if (await needExecute(db, queue, attrs, tables)) {
      log.info({ file }, `${file}: executing sql`);
      await runScript(db, replaceTags(sql, attrs, tables), context);
    } else {
      log.info({ file }, `${file}: This SQL does not need to run on this node.`);
    }
    await callRet(db, 'select * from londiste.execute_finish($1, $2)', [queue, file], context);
  }
  await db.query("select londiste.set_session_replication_role('replica', true)");
}
