import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();

/**
 * The SQL API callers rely on, as upstream pgq_coop 3.4 defines it: names, argument names and
 * types, result types. A change here breaks clients written against upstream.
 */
const expected = [
  'finish_batch(i_batch_id bigint) → integer',
  'next_batch(i_queue_name text, i_consumer_name text, i_subconsumer_name text) → bigint',
  'next_batch(i_queue_name text, i_consumer_name text, i_subconsumer_name text, i_dead_interval interval) → bigint',
  'next_batch_custom(i_queue_name text, i_consumer_name text, i_subconsumer_name text, i_min_lag interval, i_min_count integer, i_min_interval interval) → bigint',
  'next_batch_custom(i_queue_name text, i_consumer_name text, i_subconsumer_name text, i_min_lag interval, i_min_count integer, i_min_interval interval, i_dead_interval interval) → bigint',
  'register_subconsumer(i_queue_name text, i_consumer_name text, i_subconsumer_name text) → integer',
  'skytools_version() → text',
  'unregister_subconsumer(i_queue_name text, i_consumer_name text, i_subconsumer_name text, i_batch_handling integer) → integer',
  'version() → text',
];

describe('pgq_coop SQL API', () => {
  it('has exactly upstream’s functions, argument names and result types', async () => {
    const { rows } = await db.query(
      `select p.proname || '(' || pg_get_function_arguments(p.oid) || ') → '
              || pg_get_function_result(p.oid) as fn
         from pg_proc p where p.pronamespace = 'pgq_coop'::regnamespace order by 1`,
    );
    expect(rows.map((row) => row.fn)).toEqual(expected);
  });
});
