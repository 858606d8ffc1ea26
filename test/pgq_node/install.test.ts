import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { sqlBundle } from '../../src/db/sql-bundle.js';
import { SkytoolsError } from '../../src/errors.js';
import { useTestDatabase } from '../harness/database.js';
import { createRoot, nodeDatabase, one } from './node-helpers.js';

const test = useTestDatabase();

async function hasSchema(client: { query: typeof test.query }, schema: string) {
  const { rows } = await client.query(
    'select count(*)::int as n from pg_namespace where nspname = $1',
    [schema],
  );
  return rows[0]?.n === 1;
}

// §2.2: names, arguments with OUT columns, result types; definer except the five named.
const signatures = [
  'change_consumer_provider(i_queue_name text, i_consumer_name text, i_new_provider text, OUT ret_code integer, OUT ret_note text) → record',
  'create_node(i_queue_name text, i_node_type text, i_node_name text, i_worker_name text, i_provider_name text, i_global_watermark bigint, i_combined_queue text, OUT ret_code integer, OUT ret_note text) → record',
  'demote_root(i_queue_name text, i_step integer, i_new_provider text, OUT ret_code integer, OUT ret_note text, OUT last_tick bigint) → record',
  'drop_node(i_queue_name text, i_node_name text, OUT ret_code integer, OUT ret_note text) → record',
  'get_consumer_info(i_queue_name text, OUT consumer_name text, OUT provider_node text, OUT last_tick_id bigint, OUT paused boolean, OUT uptodate boolean, OUT cur_error text) → SETOF record',
  'get_consumer_state(i_queue_name text, i_consumer_name text, OUT ret_code integer, OUT ret_note text, OUT node_type text, OUT node_name text, OUT completed_tick bigint, OUT provider_node text, OUT provider_location text, OUT paused boolean, OUT uptodate boolean, OUT cur_error text) → record',
  'get_node_info(i_queue_name text, OUT ret_code integer, OUT ret_note text, OUT node_type text, OUT node_name text, OUT global_watermark bigint, OUT local_watermark bigint, OUT provider_node text, OUT provider_location text, OUT combined_queue text, OUT combined_type text, OUT worker_name text, OUT worker_paused boolean, OUT worker_uptodate boolean, OUT worker_last_tick bigint, OUT node_attrs text, OUT target_for text[]) → record',
  'get_queue_locations(i_queue_name text, OUT node_name text, OUT node_location text, OUT dead boolean) → SETOF record',
  'get_subscriber_info(i_queue_name text, OUT node_name text, OUT worker_name text, OUT node_watermark bigint) → SETOF record',
  'get_worker_state(i_queue_name text, OUT ret_code integer, OUT ret_note text, OUT node_type text, OUT node_name text, OUT completed_tick bigint, OUT provider_node text, OUT provider_location text, OUT paused boolean, OUT uptodate boolean, OUT cur_error text, OUT worker_name text, OUT global_watermark bigint, OUT local_watermark bigint, OUT local_queue_top bigint, OUT combined_queue text, OUT combined_type text) → record',
  'is_leaf_node(i_queue_name text) → boolean (invoker)',
  'is_root_node(i_queue_name text) → boolean (invoker)',
  'maint_watermark(i_queue_name text) → integer (invoker)',
  'promote_branch(i_queue_name text, OUT ret_code integer, OUT ret_note text) → record',
  'register_consumer(i_queue_name text, i_consumer_name text, i_provider_node text, i_custom_tick_id bigint, OUT ret_code integer, OUT ret_note text) → record',
  'register_location(i_queue_name text, i_node_name text, i_node_location text, i_dead boolean, OUT ret_code integer, OUT ret_note text) → record',
  'register_subscriber(i_queue_name text, i_remote_node_name text, i_remote_worker_name text, i_custom_tick_id bigint, OUT ret_code integer, OUT ret_note text, OUT global_watermark bigint) → record',
  'set_consumer_completed(i_queue_name text, i_consumer_name text, i_tick_id bigint, OUT ret_code integer, OUT ret_note text) → record',
  'set_consumer_error(i_queue_name text, i_consumer_name text, i_error_msg text, OUT ret_code integer, OUT ret_note text) → record',
  'set_consumer_paused(i_queue_name text, i_consumer_name text, i_paused boolean, OUT ret_code integer, OUT ret_note text) → record',
  'set_consumer_uptodate(i_queue_name text, i_consumer_name text, i_uptodate boolean, OUT ret_code integer, OUT ret_note text) → record',
  'set_global_watermark(i_queue_name text, i_watermark bigint, OUT ret_code integer, OUT ret_note text) → record',
  'set_node_attrs(i_queue_name text, i_node_attrs text, OUT ret_code integer, OUT ret_note text) → record',
  'set_partition_watermark(i_combined_queue_name text, i_part_queue_name text, i_watermark bigint, OUT ret_code integer, OUT ret_note text) → record',
  'set_subscriber_watermark(i_queue_name text, i_node_name text, i_watermark bigint, OUT ret_code integer, OUT ret_note text) → record',
  'skytools_version() → text (invoker)',
  'unregister_consumer(i_queue_name text, i_consumer_name text, OUT ret_code integer, OUT ret_note text) → record',
  'unregister_location(i_queue_name text, i_node_name text, OUT ret_code integer, OUT ret_note text) → record',
  'unregister_subscriber(i_queue_name text, i_remote_node_name text, OUT ret_code integer, OUT ret_note text) → record',
  'upgrade_schema() → integer (invoker)',
  'version() → text (invoker)',
];

describe('schema pgq_node install', () => {
  it('has upstream 3.5 signatures; version() is 3.5, skytools_version() ours', async () => {
    const { rows } = await test.query(
      `select p.proname || '(' || pg_get_function_arguments(p.oid) || ') → ' || pg_get_function_result(p.oid)
              || case when p.prosecdef then '' else ' (invoker)' end as sig
         from pg_proc p
        where p.pronamespace = 'pgq_node'::regnamespace and p.proname not like '\\_%'
        order by p.proname`,
    );
    expect(rows.map((r) => r.sig)).toEqual(signatures);
    expect(
      await one(
        await test.connect(),
        'select pgq_node.version() as v, pgq_node.skytools_version() as s',
      ),
    ).toEqual({
      v: '3.5',
      s: expect.stringMatching(/^skytools \S+ schema \d+$/),
    });
  });

  it('the installer refuses pgq_node where pgq is missing, and creates nothing', async () => {
    const database = await test.createDatabase('nopgq');
    const client = await test.connect({ database });
    const error = await installSchemas(client, ['pgq_node']).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SkytoolsError);
    expect(error).toMatchObject({
      code: 'MISSING_DEPENDENCY',
      message: `schema pgq_node needs schema pgq, which is not installed in database ${database}; install both: skytools install pgq pgq_node`,
    });
    expect(await hasSchema(client, 'pgq_node')).toBe(false);

    // The SQL bundle (psql -1 -f pgq_node.sql) refuses as well.
    await expect(client.query(`begin;\n${sqlBundle('pgq_node')}\ncommit;`)).rejects.toMatchObject({
      message: `schema pgq_node needs schema pgq, which is not installed in database ${database}`,
    });
    await client.query('rollback');
    expect(await hasSchema(client, 'pgq_node')).toBe(false);

    // With pgq alone, maintenance lists nothing of pgq_node; both together install.
    await installSchemas(client, ['pgq']);
    const ops = await client.query(
      `select * from pgq.maint_operations() where func_name like 'pgq_node.%'`,
    );
    expect(ops.rowCount).toBe(0);
    const results = await installSchemas(client, ['pgq_node']);
    expect(results.map((r) => [r.schema, r.previous])).toEqual([['pgq_node', null]]);
  });

  it('the SQL bundles install with one transaction each, pgq first (psql -1 -f)', async () => {
    const client = await test.connect({ database: await test.createDatabase('bundle') });
    for (const schema of ['pgq', 'pgq_node'])
      await client.query(`begin;\n${sqlBundle(schema)}\ncommit;`);
    expect(await one(client, 'select pgq_node.version() as v')).toEqual({ v: '3.5' });
  });

  it('installing again keeps the node, its queue and consumers', async () => {
    const node = await nodeDatabase(test, 'root');
    await createRoot(node, 'keep');
    await node.db.query(`select * from pgq_node.set_node_attrs('keep', 'a=1')`);
    const before = await one(node.db, `select * from pgq_node.get_node_info('keep')`);
    const results = await installSchemas(node.db, ['pgq', 'pgq_node']);
    expect(results.map((r) => r.previous)).toEqual(results.map((r) => r.current));
    expect(await one(node.db, `select * from pgq_node.get_node_info('keep')`)).toEqual(before);
  });

  it('upgrade_schema adds node_attrs to an older node_info and then does nothing', async () => {
    const client = await test.connect();
    await client.query('begin');
    try {
      await client.query('alter table pgq_node.node_info drop column node_attrs');
      expect((await one(client, 'select pgq_node.upgrade_schema() as n')).n).toBe(1);
      expect((await one(client, 'select pgq_node.upgrade_schema() as n')).n).toBe(0);
      const info = await one(client, `select * from pgq_node.get_node_info('keep')`);
      expect(info).toMatchObject({ ret_code: 100, node_attrs: null });
    } finally {
      await client.query('rollback');
    }
  });
});
