/**
 * Differential test: the same calls against upstream's londiste SQL 3.8 (Debian's
 * postgresql-15-londiste-sql, on PostgreSQL 15, which .ci/run installs) and against ours:
 * rows, return codes, notes, errors and the triggers made (pg_get_triggerdef) must match.
 * The list of behaviours covered is in upstream-compare-steps.ts. Behaviour only: no
 * upstream code is read or used here.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  edgeSteps,
  registrationSteps,
  type Step,
  setupSteps,
  triggerSteps,
} from './upstream-compare-steps.js';

const test = useTestDatabase();

async function run(db: pg.Client, sql: string, params?: unknown[]) {
  try {
    const { rows } = await db.query(sql, params);
    return { rows };
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    // The pgq triggers' 'change not allowed' is XX000 in upstream's C trigger, P0001 in our
    // PL/pgSQL one (pgq's area, same text): compare the text only.
    if (/change not allowed/.test(message)) return { error: { message } };
    return { error: { code, message } };
  }
}

describe('londiste tables and triggers against upstream londiste 3.8', () => {
  it.each([
    ['registration, states, removal, merge leaves, copy coordination', 'reg', registrationSteps],
    ['create_trigger flags, SKIP, deny, destination tables, quoting', 'trg', triggerSteps],
    ['special arguments, combined branch, missing objects, NULL inputs', 'edge', edgeSteps],
  ] as const)('%s: the same results, codes, notes and errors', async (_title, name, script) => {
    const { rows } = await test.query(
      `select 1 from pg_available_extensions where name = 'londiste'`,
    );
    if (rows.length === 0) {
      // Only Debian's PostgreSQL 15 packages have it; .ci/run installs them there.
      expect(test.cluster.pgMajor).not.toBe(15);
      return;
    }
    const upstream = await test.connect({ database: await test.createDatabase(`${name}_up`) });
    await upstream.query('create extension londiste cascade');
    const ours = await test.connect({
      database: await test.createDatabase(name, { template: test.cluster.templateDatabase }),
    });

    const mismatches: unknown[] = [];
    const steps: Step[] = [...setupSteps, ...script];
    for (const [i, [sql, params]] of steps.entries()) {
      const theirs = await run(upstream, sql, params);
      const mine = await run(ours, sql, params);
      try {
        expect(mine).toEqual(theirs);
      } catch {
        mismatches.push({ step: i, sql, params, upstream: theirs, ours: mine });
      }
    }
    expect(mismatches).toEqual([]);
  });
});
