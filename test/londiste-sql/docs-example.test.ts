/**
 * docs/londiste-sql.md: its examples run as written and give what the page says.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { psqlBinary } from '../harness/psql.js';

const db = useTestDatabase();
const doc = readFileSync(
  fileURLToPath(new URL('../../docs/londiste-sql.md', import.meta.url)),
  'utf8',
);

/** The first SQL block after a heading of the page. */
function example(heading: string): string {
  const section = doc.slice(doc.indexOf(heading));
  return /```sql\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
}

describe('docs/londiste-sql.md', () => {
  it('runs the "replicated table in plain SQL" example as written', () => {
    const sql = example('### A replicated table in plain SQL');
    expect(sql).toContain('londiste.local_add_table');
    const run = spawnSync(psqlBinary(), [db.url, '-v', 'ON_ERROR_STOP=1', '-X', '-At'], {
      input: sql,
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

  it('runs the sequences example as written', async () => {
    const sql = example('### Sequences, step by step in SQL');
    expect(sql).toContain('londiste.local_add_seq');
    // Its own database: the first example made queue "shop" in the file's database.
    const client = await db.connect({
      database: await db.createDatabase('seqs', { template: db.cluster.templateDatabase }),
    });
    // One simple-protocol call: every statement's result, in order.
    const results = (await client.query(sql)) as unknown as pg.QueryResult[];
    const selects = results.filter((r) => r.command === 'SELECT').map((r) => r.rows);
    expect(selects).toEqual([
      [{ ret_code: 200, ret_note: 'Location registered' }],
      [{ ret_code: 200, ret_note: 'Node "n_root" initialized for queue "shop" with type "root"' }],
      [{ setval: '41' }],
      [{ ret_code: 200, ret_note: 'Sequence added: public.order_ids' }],
      [{ ev_type: 'londiste.update-seq', ev_data: '30041', ev_extra1: 'public.order_ids' }],
      [{ setval: '25000' }],
      [{ ret_code: 100, ret_note: 'Sequences updated' }],
      [{ seq_name: 'public.order_ids', last_value: '55000', local: true }],
      [{ ret_code: 200, ret_note: 'Location registered' }],
      [{ ret_code: 200, ret_note: 'Location registered' }],
      [
        {
          ret_code: 200,
          ret_note: 'Node "n_here" initialized for queue "shop_copy" with type "branch"',
        },
      ],
      [{ ret_code: 200, ret_note: 'Sequence updated' }],
      [{ ret_code: 200, ret_note: 'Sequence added: public.copy_ids' }],
      [{ last_value: '55000' }],
    ]);
    expect(doc).toContain('The last query prints `55000`.');
  });
});
