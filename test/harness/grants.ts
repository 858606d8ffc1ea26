/**
 * Login roles for the grants tests of each schema, and the privilege question they all ask.
 * Roles are cluster-wide while test databases are per file, so each role is named after the
 * file's database and dropped, with whatever it owns, after the file.
 */
import { afterAll, beforeAll } from 'vitest';
import { quoteIdent } from '../../src/db/quote.js';
import type { TestDatabase } from './database.js';

/**
 * One login role per key, member of the group role given as its value (null: no group).
 * Returns the role names by key; the roles exist from the file's beforeAll on.
 */
export function useLoginRoles<K extends string>(
  db: TestDatabase,
  groups: Record<K, string | null>,
): Record<K, string> {
  const names = Object.fromEntries(
    Object.keys(groups).map((key) => [key, `${db.name}_${key}`]),
  ) as Record<K, string>;
  const all = () => Object.values<string>(names).map(quoteIdent).join(', ');
  beforeAll(async () => {
    for (const [key, group] of Object.entries<string | null>(groups)) {
      const role = quoteIdent(names[key as K]);
      await db.query(`create role ${role} login${group ? ` in role ${quoteIdent(group)}` : ''}`);
    }
  });
  afterAll(async () => {
    await db.query(`drop owned by ${all()}`);
    await db.query(`drop role ${all()}`);
  });
  return names;
}

/** Whether `role` may execute `fn` (a signature such as `pgq.next_batch(text,text)`). */
export async function canExecute(db: TestDatabase, role: string, fn: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(
    'select has_function_privilege($1, $2, $3) as ok',
    [role, fn, 'execute'],
  );
  return rows[0]?.ok === true;
}
