import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { psqlBinary } from '../harness/psql.js';

const db = useTestDatabase();
const doc = readFileSync(fileURLToPath(new URL('../../docs/pgq.md', import.meta.url)), 'utf8');

/** The first SQL block after `heading`, run through psql; fails on any error. */
function runExample(heading: string): string {
  const section = doc.slice(doc.indexOf(heading));
  const example = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
  expect(example).toBeDefined();
  const run = spawnSync(psqlBinary(), [db.url, '-v', 'ON_ERROR_STOP=1', '-X', '-At'], {
    input: example,
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout;
}

describe('docs/pgq.md', () => {
  it('runs the "queue in plain SQL" example as written', () => {
    const stdout = runExample('## A queue in plain SQL');
    // create, register, insert (id 1), force_tick, ticker (1 tick), batch events, finish.
    expect(stdout).toMatch(/1\|order\.created\|\{"id": 42\}\n1\n$/);
  });

  it('runs the "producing many events" example as written', () => {
    const stdout = runExample('## Producing many events at once');
    // create_queue, the two ids of insert_events, the COPY, then the three events.
    expect(stdout).toMatch(
      /^1\n1\n2\n(BEGIN\n)?(COPY 1\n)?(COMMIT\n)?1\|\{"id": 1\}\n2\|\{"id": 2\}\n3\|\{"id": 3\}\n$/,
    );
  });
});
