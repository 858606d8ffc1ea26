import type pg from 'pg';
import { quoteIdent } from '../../src/db/quote.js';
import { waitFor } from './poll.js';

// PostgreSQL's own logical replication, the baseline of the Londiste workloads: a publication
// on the source, a subscription on the target; every sample makes its own subscription and
// drops it after, waiting until its slots are gone from the source before the next sample.

export interface NativeReplication {
  source: pg.Client;
  target: pg.Client;
  /** libpq string the subscription connects to the source with. */
  sourceLocation: string;
  publication: string;
  subscription: string;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A fresh publication of `tables` (qualified, quoted) on the source. */
export async function createPublication(
  source: pg.Client,
  name: string,
  tables: readonly string[],
): Promise<void> {
  await source.query(`drop publication if exists ${quoteIdent(name)}`);
  await source.query(`create publication ${quoteIdent(name)} for table ${tables.join(', ')}`);
}

/**
 * CREATE SUBSCRIPTION; with `copyData` false its tables are ready at once. Resolves when the
 * statement returns (the slot exists then), not when the tables are synced.
 */
export async function createSubscription(
  native: NativeReplication,
  options: { copyData: boolean; enabled?: boolean },
): Promise<void> {
  await native.target.query(
    `create subscription ${quoteIdent(native.subscription)}
       connection ${literal(native.sourceLocation)}
       publication ${quoteIdent(native.publication)}
       with (copy_data = ${options.copyData}, enabled = ${options.enabled ?? true})`,
  );
}

/** Table states of the subscription that are not `r` (ready); none when all are synced. */
async function notReady(native: NativeReplication): Promise<number> {
  const { rows } = await native.target.query<{ n: number }>(
    `select count(*)::int as n from pg_subscription_rel r
       join pg_subscription s on s.oid = r.srsubid
      where s.subname = $1 and r.srsubstate <> 'r'`,
    [native.subscription],
  );
  return rows[0]?.n ?? 0;
}

/** Until every table of the subscription is `r`; polls every `intervalMs`. */
export async function waitReady(native: NativeReplication, intervalMs = 10): Promise<void> {
  await waitFor(
    `subscription ${native.subscription}: every table ready`,
    async () => (await notReady(native)) === 0,
    { intervalMs },
  );
}

/** The PID of the subscription's apply worker on the target, or null when none runs. */
export async function applyWorkerPid(native: NativeReplication): Promise<number | null> {
  const { rows } = await native.target.query<{ pid: number | null }>(
    `select pid from pg_stat_subscription
      where subname = $1 and relid is null and pid is not null`,
    [native.subscription],
  );
  return rows[0]?.pid ?? null;
}

async function slotActive(native: NativeReplication): Promise<boolean> {
  const { rows } = await native.source.query<{ active: boolean }>(
    'select active from pg_replication_slots where slot_name = $1',
    [native.subscription],
  );
  return rows[0]?.active ?? false;
}

/** ALTER SUBSCRIPTION DISABLE, then until its apply worker and its walsender have stopped. */
export async function disableSubscription(native: NativeReplication): Promise<void> {
  await native.target.query(`alter subscription ${quoteIdent(native.subscription)} disable`);
  await waitFor(
    `subscription ${native.subscription}: stopped`,
    async () => (await applyWorkerPid(native)) === null && !(await slotActive(native)),
  );
}

export async function enableSubscription(native: NativeReplication): Promise<void> {
  await native.target.query(`alter subscription ${quoteIdent(native.subscription)} enable`);
}

/**
 * DROP SUBSCRIPTION if it exists, then until no slot of it (its own or a table sync's) is left
 * on the source, so the next sample does not share the machine with a leaving walsender.
 */
export async function dropSubscription(native: NativeReplication): Promise<void> {
  const { rows } = await native.target.query<{ oid: string }>(
    'select oid::text from pg_subscription where subname = $1',
    [native.subscription],
  );
  const oid = rows[0]?.oid;
  if (oid !== undefined) {
    await native.target.query(`drop subscription ${quoteIdent(native.subscription)}`);
  }
  await waitFor(`subscription ${native.subscription}: slots gone from the source`, async () => {
    const slots = await native.source.query<{ n: number }>(
      `select count(*)::int as n from pg_replication_slots
        where slot_name = $1 or ($2::text is not null and slot_name like 'pg\\_' || $2 || '\\_sync\\_%')`,
      [native.subscription, oid ?? null],
    );
    return slots.rows[0]?.n === 0;
  });
}
