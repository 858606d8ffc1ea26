import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { useTestDatabase } from '../harness/database.js';
import { psqlBinary } from '../harness/psql.js';

const db = useTestDatabase();
const doc = readFileSync(
  fileURLToPath(new URL('../../docs/pgq_coop_ext.md', import.meta.url)),
  'utf8',
);

/** The first ```sql block after `heading`, run through psql; returns its output lines. */
function runExample(heading: string, database: string): string[] {
  const start = doc.indexOf(heading);
  expect(start).toBeGreaterThan(-1);
  const example = /```sql\n([\s\S]*?)```/.exec(doc.slice(start))?.[1] ?? '';
  const url = db.url.replace(/\/[^/]*$/, `/${encodeURIComponent(database)}`);
  const run = spawnSync(psqlBinary(), [url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1'], {
    input: example,
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout.trimEnd().split('\n');
}

// Both examples of the page (pgq_ext's too) are checked here, beside the page's other half.
describe('docs/pgq_coop_ext.md', () => {
  it('runs the cooperative consumer example: two workers, two different batches', () => {
    const out = runExample('## Cooperative consumers in plain SQL', db.name);
    // create_queue, two registrations, then (after the ticks) each worker's event, two finishes.
    expect(out.slice(0, 3)).toEqual(['1', '1', '1']);
    expect(out.slice(-4)).toEqual(['photo-1.jpg', 'photo-2.jpg', '1', '1']);
  });

  it('runs the exactly-once example against a target database without pgq', async () => {
    const target = await db.createDatabase('target');
    const client = new pg.Client(db.config({ database: target }));
    await client.connect();
    try {
      await installSchemas(client, ['pgq_ext']);
    } finally {
      await client.end();
    }
    expect(runExample('## Exactly-once into a target database in plain SQL', target)).toEqual([
      'f',
      't',
      't',
    ]);
  });
});
