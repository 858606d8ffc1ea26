/**
 * Before a node registers its public location, make sure that string leads back to the very
 * database the command runs in: other members will connect there, and a typo that reaches a
 * different database (or another server's database of the same name) would only show up later
 * as a node that never moves. Same oid and name, and a txid taken through the public location
 * that falls between two taken locally (txids are per server), prove it.
 */
import type pg from 'pg';
import { parseConnString } from '../../db/connstring.js';
import { CascadeError } from '../node-calls.js';
import { connectNode } from '../node-connection.js';
import type { AdminSession } from './session.js';

interface DbIdentity {
  oid: string;
  datname: string;
  txid: string;
}

const identitySql =
  'select d.oid::text as oid, d.datname, txid_current()::text as txid' +
  ' from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()';

export async function checkPublicLocation(
  session: AdminSession,
  local: pg.Client,
  node: string,
  location: string,
  extraConnstr: string | undefined,
): Promise<void> {
  const ctx = { queue: session.queue, node };
  const before = await identity(local);
  const remote = await connectNode(location, ctx, { extraConnstr });
  let there: DbIdentity;
  try {
    there = await identity(remote);
  } finally {
    await remote.end().catch(() => {});
  }
  const after = await identity(local);
  const txidBetween =
    BigInt(before.txid) < BigInt(there.txid) && BigInt(there.txid) < BigInt(after.txid);
  if (before.oid !== there.oid || before.datname !== there.datname || !txidBetween) {
    throw new CascadeError(
      'LOCATION_MISMATCH',
      `public connect string of node ${node} reaches another database (${there.datname}) than the local one (${before.datname}); fix it or use --nocheck`,
      ctx,
    );
  }
}

/** Other members connect with the public location from their hosts: a socket-only one rarely works. */
export function warnIfNoHost(session: AdminSession, node: string, location: string): void {
  if (!hasHost(location)) {
    session.out.warn(
      `public connect string of node ${node} has no host=; other nodes reach it only through their own local socket`,
    );
  }
}

function hasHost(location: string): boolean {
  const text = location.trim();
  try {
    if (/^postgres(ql)?:\/\//.test(text)) return new URL(text).hostname !== '';
    return Boolean(parseConnString(text).host);
  } catch {
    return true; // a bad string is reported by the connection attempt, not here
  }
}

async function identity(db: pg.Client): Promise<DbIdentity> {
  const { rows } = await db.query<DbIdentity>(identitySql);
  const row = rows[0];
  if (row === undefined) throw new Error('current database not in pg_database');
  return row;
}
