import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { installSchemas } from '../db/installer.js';
import { quoteQualified } from '../db/quote.js';
import { SkytoolsError } from '../errors.js';
import { registerConsumer, unregisterConsumer } from '../pgq/consumer.js';

/** The two subscriptions the demo reads with: one of each consumer kind. */
export const demoConsumers = [
  { name: 'demo_plain', kind: 'plain' },
  { name: 'demo_tx', kind: 'transactional' },
] as const;

/** What the demo made in the database, so that cleanup removes exactly that. */
export interface DemoObjects {
  readonly database: string;
  readonly queue: string;
  /** schema.table of the transactional consumer's tally, quoted. */
  readonly tally: string;
  /** The pgq version installed now, or null when pgq was there already. */
  readonly installed: string | null;
}

export function randomQueueName(): string {
  return `skytools_demo_${randomBytes(3).toString('hex')}`;
}

/** Run one setup step; a server error becomes one line naming the step and the database. */
async function step<T>(what: string, database: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof SkytoolsError) throw error;
    throw new SkytoolsError(
      'DEMO_SETUP',
      `cannot ${what} in database ${database}: ${(error as Error).message}`,
      { database, step: what, sqlstate: (error as { code?: unknown }).code },
      { cause: error },
    );
  }
}

/**
 * Install pgq when the database has none (ours or upstream's: the demo uses only the SQL API),
 * then create the queue, the tally table and both subscriptions. On a failure whatever was made
 * so far is removed again.
 */
export async function createDemoObjects(admin: pg.Client, queue: string): Promise<DemoObjects> {
  const { rows } = await admin.query<{ db: string; schema: string | null; pgq: boolean }>(
    `select current_database() as db, current_schema() as schema,
            pg_catalog.to_regprocedure('pgq.version()') is not null as pgq`,
  );
  const state = rows[0] as { db: string; schema: string | null; pgq: boolean };
  const database = state.db;
  let installed: string | null = null;
  if (!state.pgq) {
    const [result] = await installSchemas(admin, ['pgq']);
    installed = result?.current ?? null;
  }
  if (state.schema === null) {
    throw new SkytoolsError(
      'DEMO_SETUP',
      `cannot create the demo's tally table in database ${database}: no schema on the search_path exists`,
      { database },
    );
  }
  const tally = quoteQualified(state.schema, `${queue}_tally`);
  const created = await step(`create queue ${queue}`, database, async () => {
    const result = await admin.query<{ n: number }>('select pgq.create_queue($1) as n', [queue]);
    return result.rows[0]?.n === 1;
  });
  if (!created) {
    throw new SkytoolsError(
      'QUEUE_EXISTS',
      `queue ${queue} already exists in database ${database}; name another with --queue`,
      { database, queue },
    );
  }
  const objects = { database, queue, tally, installed };
  try {
    await step(`create table ${tally}`, database, async () => {
      await admin.query(
        `create table ${tally} (consumer text primary key, events bigint not null default 0)`,
      );
      await admin.query(`insert into ${tally} (consumer) values ($1)`, [demoConsumers[1].name]);
    });
    for (const { name } of demoConsumers) {
      await step(`register consumer ${name}`, database, () => registerConsumer(admin, queue, name));
    }
  } catch (error) {
    await dropDemoObjects(admin, objects);
    throw error;
  }
  return objects;
}

/** How many events the transactional consumer's committed work counted. */
export async function readTally(admin: pg.Client, objects: DemoObjects): Promise<number> {
  const { rows } = await admin.query<{ events: string }>(
    `select events from ${objects.tally} where consumer = $1`,
    [demoConsumers[1].name],
  );
  return Number(rows[0]?.events ?? 0);
}

/** Remove the subscriptions, the queue and the tally table; returns problems, if any. */
export async function dropDemoObjects(admin: pg.Client, objects: DemoObjects): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, sql: string, values: unknown[]) => {
    try {
      await admin.query(sql, values);
    } catch (error) {
      problems.push(`could not ${what}: ${(error as Error).message}`);
    }
  };
  for (const { name } of demoConsumers) {
    try {
      await unregisterConsumer(admin, objects.queue, name);
    } catch (error) {
      problems.push(`could not unregister consumer ${name}: ${(error as Error).message}`);
    }
  }
  await attempt(`drop queue ${objects.queue}`, 'select pgq.drop_queue($1)', [objects.queue]);
  await attempt(`drop table ${objects.tally}`, `drop table if exists ${objects.tally}`, []);
  return problems;
}
