import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { psqlBinary } from '../harness/psql.js';

const db = useTestDatabase();
const doc = readFileSync(fileURLToPath(new URL('../../docs/pgq_node.md', import.meta.url)), 'utf8');

describe('docs/pgq_node.md', () => {
  it('runs the "cascade node in plain SQL" example as written', () => {
    const section = doc.slice(doc.indexOf('## A cascade node in plain SQL'));
    const example = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toContain('pgq_node.create_node');
    const run = spawnSync(psqlBinary(), [db.url, '-v', 'ON_ERROR_STOP=1', '-X', '-At'], {
      input: example,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      '200|Location registered',
      '200|Node "n_root" initialized for queue "orders" with type "root"',
      '200|Location registered',
      '200|Subscriber registered: n_branch|1',
      '2', // event id: the root announced n_branch's location as event 1
      '1',
      '2',
      '1',
      '200|.n_branch.watermark set to 2',
      '200|Global watermark set to 2',
      'root|2|2|2',
      '',
    ]);
    expect(section).toContain('The last query prints `root | 2 | 2 | 2`.');
  });
});
