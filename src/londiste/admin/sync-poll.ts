/**
 * `add-table --wait-sync`: poll the local table list until the added tables are `ok` (the
 * worker and its copy processes do the work), saying which are still on their way.
 */
import type pg from 'pg';
import type { AdminSession } from '../../cascade/admin/session.js';
import { readTables } from './node-tables.js';

export async function pollUntilSynced(
  session: AdminSession,
  local: pg.Client,
  tables: readonly string[],
  pollMs = 1000,
): Promise<void> {
  let last = '';
  for (;;) {
    const list = await readTables(local, session.queue);
    const pending = tables.filter((t) => {
      const state = list.find((row) => row.tableName === t)?.mergeState;
      return state !== 'ok' && state !== '?';
    });
    if (pending.length === 0) {
      session.out.info('All tables in sync');
      return;
    }
    const line = `Waiting for ${pending.length} table(s) to be in sync: ${pending.join(', ')}`;
    if (line !== last) session.out.info(line);
    last = line;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
