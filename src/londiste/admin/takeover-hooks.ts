/**
 * What Londiste adds to a takeover of the root (switchover, failover): a preflight that
 * refuses while a table on the new root is not `ok` (it would be the root of a table it does
 * not fully have), listing every such table (`--force` goes on), and a step on the new root
 * that keeps its sequences at or above the last values the set published, so ids never go
 * back, then publishes from there.
 */
import type { AdminHooks, TakeoverPlan } from '../../cascade/admin/hooks.js';
import type { AdminSession } from '../../cascade/admin/session.js';
import type { Step } from '../../cascade/admin/takeover-steps.js';
import { CascadeError } from '../../cascade/node-calls.js';
import { quoteLiteral } from '../../db/quote.js';
import { readSeqs, readTables } from './node-tables.js';

async function refuseUnreadyTables(session: AdminSession, plan: TakeoverPlan): Promise<void> {
  if (plan.kind === 'branch') return;
  const tables = await readTables(await session.local(), session.queue);
  const unready = tables.filter((t) => t.local && t.mergeState !== 'ok');
  if (unready.length === 0) return;
  const list = unready.map((t) => `${t.tableName} (${t.mergeState ?? 'not copied yet'})`);
  if (plan.force) {
    session.out.warn(
      `--force: ${plan.newNode} becomes the root with tables not ok: ${list.join(', ')}`,
    );
    return;
  }
  throw new CascadeError(
    'TABLES_NOT_READY',
    `node ${plan.newNode} cannot become the root of queue ${session.queue}: tables not ok there: ${list.join(', ')}; wait until they are (londiste CONFIG wait-sync), or --force`,
    { queue: session.queue, node: plan.newNode, tables: unready.map((t) => t.tableName) },
  );
}

function sequenceSteps(session: AdminSession, done: { kind: string; newNode: string }): Step[] {
  if (done.kind === 'branch') return [];
  const sql = (seq: string, value: string) =>
    `select pgq.seq_setval(${quoteLiteral(seq)}, ${value})`;
  return [
    {
      title: `sequences on ${done.newNode} at or above the set's last published values`,
      async run() {
        const local = await session.local();
        for (const seq of await readSeqs(local, session.queue)) {
          if (!seq.local) continue;
          await session.execute(done.newNode, local, sql(seq.seqName, '$1'), [seq.lastValue]);
        }
        await session.execute(done.newNode, local, 'select * from londiste.root_check_seqs($1)', [
          session.queue,
        ]);
      },
      manual: () =>
        `on ${done.newNode}: select pgq.seq_setval(seq_name, last_value) from londiste.get_seq_list(${quoteLiteral(session.queue)}) where local; select * from londiste.root_check_seqs(${quoteLiteral(session.queue)})`,
    },
  ];
}

export const londisteTakeoverHooks: Pick<AdminHooks, 'beforeTakeover' | 'takeoverSteps'> = {
  beforeTakeover: refuseUnreadyTables,
  takeoverSteps: sequenceSteps,
};
