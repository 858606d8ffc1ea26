import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();

/**
 * The SQL API callers rely on, as upstream pgq_ext 3.3 defines it: names, argument names and
 * types, result types, and the tables' columns. A change here breaks clients written against
 * upstream.
 */
const expectedFunctions = [
  'get_last_tick(a_consumer text) → bigint',
  'get_last_tick(a_consumer text, a_subconsumer text) → bigint',
  'is_batch_done(a_consumer text, a_batch_id bigint) → boolean',
  'is_batch_done(a_consumer text, a_subconsumer text, a_batch_id bigint) → boolean',
  'is_event_done(a_consumer text, a_batch_id bigint, a_event_id bigint) → boolean',
  'is_event_done(a_consumer text, a_subconsumer text, a_batch_id bigint, a_event_id bigint) → boolean',
  'set_batch_done(a_consumer text, a_batch_id bigint) → boolean',
  'set_batch_done(a_consumer text, a_subconsumer text, a_batch_id bigint) → boolean',
  'set_event_done(a_consumer text, a_batch_id bigint, a_event_id bigint) → boolean',
  'set_event_done(a_consumer text, a_subconsumer text, a_batch_id bigint, a_event_id bigint) → boolean',
  'set_last_tick(a_consumer text, a_subconsumer text, a_tick_id bigint) → integer',
  'set_last_tick(a_consumer text, a_tick_id bigint) → integer',
  'skytools_version() → text',
  'upgrade_schema() → integer',
  'version() → text',
];

const expectedColumns = [
  'completed_batch: consumer_id text not null, subconsumer_id text not null, last_batch_id bigint not null; key (consumer_id, subconsumer_id)',
  'completed_event: consumer_id text not null, subconsumer_id text not null, batch_id bigint not null, event_id bigint not null; key (consumer_id, subconsumer_id, batch_id, event_id)',
  'completed_tick: consumer_id text not null, subconsumer_id text not null, last_tick_id bigint not null; key (consumer_id, subconsumer_id)',
  'partial_batch: consumer_id text not null, subconsumer_id text not null, cur_batch_id bigint not null; key (consumer_id, subconsumer_id)',
];

describe('pgq_ext SQL API', () => {
  it('has exactly upstream’s functions, argument names and result types', async () => {
    const { rows } = await db.query(
      `select p.proname || '(' || pg_get_function_arguments(p.oid) || ') → '
              || pg_get_function_result(p.oid) as fn
         from pg_proc p where p.pronamespace = 'pgq_ext'::regnamespace order by 1`,
    );
    expect(rows.map((row) => row.fn)).toEqual(expectedFunctions);
  });

  it('has upstream’s tables, columns and keys', async () => {
    const { rows } = await db.query(
      `select c.relname || ': '
              || (select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                    || case when a.attnotnull then ' not null' else '' end,
                                    ', ' order by a.attnum)
                    from pg_attribute a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped)
              || '; key ' || substr(pg_get_constraintdef(k.oid), length('PRIMARY KEY ') + 1) as t
         from pg_class c
         join pg_constraint k on k.conrelid = c.oid and k.contype = 'p'
        where c.relnamespace = 'pgq_ext'::regnamespace and c.relkind = 'r'
        order by 1`,
    );
    expect(rows.map((row) => row.t)).toEqual(expectedColumns);
  });
});
