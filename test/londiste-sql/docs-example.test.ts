import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const doc = readFileSync(
  fileURLToPath(new URL('../../docs/londiste-sql.md', import.meta.url)),
  'utf8',
);

/** psql from PATH, else Debian's (which .ci/run installs with PostgreSQL 15). */
function psqlBinary(): string {
  const found = spawnSync('psql', ['--version'], { stdio: 'ignore' });
  if (found.status === 0) return 'psql';
  const debian = '/usr/lib/postgresql/15/bin/psql';
  if (existsSync(debian)) return debian;
  throw new Error('psql is needed to run the docs example: install postgresql-client');
}

describe('docs/londiste-sql.md', () => {
  it('runs the "replicated table in plain SQL" example as written', () => {
    const section = doc.slice(doc.indexOf('### A replicated table in plain SQL'));
    const example = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toContain('londiste.local_add_table');
    const run = spawnSync(psqlBinary(), [db.url, '-v', 'ON_ERROR_STOP=1', '-X', '-At'], {
      input: example,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      '200|Location registered',
      '200|Node "n_root" initialized for queue "shop" with type "root"',
      'CREATE TABLE',
      '200|Table added: public.orders',
      'public.orders|t|ok',
      'INSERT 0 1',
      'UPDATE 1',
      'londiste.add-table|public.orders||',
      'I:id|id=1&item=tea|public.orders|',
      'U:id|id=1&item=green+tea|public.orders|id=1&item=tea',
      '',
    ]);
  });
});
