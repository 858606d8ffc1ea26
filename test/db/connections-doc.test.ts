/**
 * docs/connections.md's example run as written: `skytools install` through the real bin,
 * the server given by the libpq environment (pointed at a test database) and the keywords
 * by the documented connect string.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const repo = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(repo, 'docs/connections.md'), 'utf8');
const example = /## Example[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';

it('the example of docs/connections.md installs pgq with its connect string', async () => {
  const connstring = /--db '([^']*)'/.exec(example)?.[1];
  expect(connstring).toContain('keepalives_idle=10');
  const database = await db.createDatabase('doc_example');
  const run = spawnSync(
    process.execPath,
    [path.join(repo, 'bin/skytools.js'), 'install', 'pgq', '--db', connstring as string],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        PGHOST: db.cluster.host,
        PGPORT: String(db.cluster.port),
        PGUSER: db.cluster.user,
        PGDATABASE: database,
      },
    },
  );
  expect(run.stderr).toBe('');
  expect(run.stdout).toMatch(/^pgq: installed /);
  expect(run.status).toBe(0);
  const client = await db.connect({ database });
  const { rows } = await client.query('select pgq.version() as v');
  expect(rows[0].v).toBe('3.5');
});
