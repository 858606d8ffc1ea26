import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const doc = readFileSync(fileURLToPath(new URL('../../docs/pgq.md', import.meta.url)), 'utf8');

/** psql from PATH, else Debian's (which .ci/run installs with PostgreSQL 15). */
function psqlBinary(): string {
  const found = spawnSync('psql', ['--version'], { stdio: 'ignore' });
  if (found.status === 0) return 'psql';
  const debian = '/usr/lib/postgresql/15/bin/psql';
  if (existsSync(debian)) return debian;
  throw new Error('psql is needed to run the docs example: install postgresql-client');
}

describe('docs/pgq.md', () => {
  it('runs the "queue in plain SQL" example as written', () => {
    const section = doc.slice(doc.indexOf('## A queue in plain SQL'));
    const example = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toContain('pgq.insert_event');
    const run = spawnSync(psqlBinary(), [db.url, '-v', 'ON_ERROR_STOP=1', '-X', '-At'], {
      input: example,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // create, register, insert (id 1), force_tick, ticker (1 tick), batch events, finish.
    expect(run.stdout).toMatch(/1\|order\.created\|\{"id": 42\}\n1\n$/);
  });
});
