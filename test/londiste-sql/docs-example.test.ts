/**
 * docs/londiste-sql-rest.md: the "Sequences, step by step in SQL" example runs as written and
 * gives what the page says.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const doc = readFileSync(
  fileURLToPath(new URL('../../docs/londiste-sql-rest.md', import.meta.url)),
  'utf8',
);

describe('docs/londiste-sql-rest.md', () => {
  it('runs the sequences example as written', async () => {
    const section = doc.slice(doc.indexOf('### Sequences, step by step in SQL'));
    const example = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toContain('londiste.local_add_seq');
    const client = await db.connect();
    // One simple-protocol call: every statement's result, in order.
    const results = (await client.query(example ?? '')) as unknown as pg.QueryResult[];
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
    expect(section).toContain('The last query prints `55000`.');
  });
});
