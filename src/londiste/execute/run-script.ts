/**
 * An EXECUTE script run as upstream runs it, as one query, inside the caller's transaction;
 * when it fails, the statement that failed is found (each run alone, up to the failing one,
 * then all undone) and named with its number and line, so the operator knows what to fix.
 */
import type pg from 'pg';
import { SkytoolsError } from '../../errors.js';
import { splitStatements } from './statements.js';

export interface ScriptContext {
  queue: string;
  file: string;
  node?: string;
}

const savepoint = 'londiste_execute';

export async function runScript(
  db: pg.ClientBase,
  script: string,
  context: ScriptContext,
): Promise<void> {
  await db.query(`savepoint ${savepoint}`);
  try {
    await db.query(script);
  } catch (error) {
    await db.query(`rollback to savepoint ${savepoint}`);
    const failing = await failingStatement(db, script);
    await db.query(`rollback to savepoint ${savepoint}`);
    const where = context.node === undefined ? '' : `node ${context.node}: `;
    const which =
      failing === null
        ? ''
        : ` at statement ${failing.number} (line ${failing.line}: ${excerpt(failing.text)})`;
    throw new SkytoolsError(
      'EXECUTE_FAILED',
      `${where}${context.file} failed${which}: ${(error as Error).message}`,
      { ...context, statement: failing?.number, line: failing?.line },
      { cause: error },
    );
  }
  await db.query(`release savepoint ${savepoint}`);
}

async function failingStatement(db: pg.ClientBase, script: string) {
  const statements = splitStatements(script);
  for (const [index, statement] of statements.entries()) {
    try {
      await db.query(statement.text);
    } catch {
      // The one that fails is what we were looking for; its error is the script's.
      return { number: index + 1, ...statement };
    }
  }
  return null;
}

function excerpt(text: string): string {
  const first = text.split('\n')[0] as string;
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
}
