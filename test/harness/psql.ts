/**
 * psql for tests that run SQL the way users do (docs examples, `psql -1 -f` installs): from
 * PATH, else Debian's, which .ci/run installs with PostgreSQL 15 (the embedded 18 has none).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function psqlBinary(): string {
  if (spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0) return 'psql';
  const debian = '/usr/lib/postgresql/15/bin/psql';
  if (existsSync(debian)) return debian;
  throw new Error('psql is needed for this test: install postgresql-client');
}
