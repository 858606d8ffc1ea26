/**
 * A branch's queue refuses inserts (disable_insert) unless the session runs with
 * session_replication_role = replica: only the worker copying from the provider may write.
 * Setting that parameter needs superuser, or on PostgreSQL 15+ a grant; a managed server's
 * owner role often has neither, and the bare "permission denied" would not say what to do.
 */
import type pg from 'pg';
import { quoteIdent } from '../db/quote.js';
import { currentRoleSql, replicaRoleSql } from './cascade-sql.js';
import { CascadeError } from './node-calls.js';

/** `set local session_replication_role = replica` in the open transaction, or a clear error. */
export async function enterReplicaRole(
  db: pg.ClientBase,
  context: { queue: string; node?: string; consumer?: string },
): Promise<void> {
  const { rows } = await db.query<{ role: string; who: string }>(currentRoleSql);
  // Already replica (a role or database setting made by an administrator): nothing to set.
  if (rows[0]?.role === 'replica') return;
  try {
    await db.query(replicaRoleSql);
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    const who = rows[0]?.who ?? 'the worker role';
    throw new CascadeError(
      'REPLICA_ROLE_DENIED',
      `the cascaded worker of queue ${context.queue}${context.node ? ` on node ${context.node}` : ''} must set session_replication_role = replica to copy events into the branch queue, and role ${who} may not: run \`GRANT SET ON PARAMETER session_replication_role TO ${quoteIdent(who)}\` as a superuser (PostgreSQL 15+), or run the worker as a superuser`,
      { ...context, role: who },
      { cause: error },
    );
  }
}
