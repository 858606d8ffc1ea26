import { beforeAll, describe, expect, it } from 'vitest';
import { expectPgError } from '../harness/assertions.js';
import { useTestDatabase } from '../harness/database.js';
import { canExecute, useLoginRoles } from '../harness/grants.js';
import { createRoot, nodeDatabase } from './node-helpers.js';

const db = useTestDatabase();

// §2.2 Grants: PUBLIC, then the provider-side ("remote") functions for all three roles, the
// consumer-target functions for writers and admins, the rest for admins.
const publicFunctions = ['is_root_node(text)', 'is_leaf_node(text)', 'version()'];
const remoteFunctions = [
  'get_consumer_info(text)',
  'get_consumer_state(text,text)',
  'get_queue_locations(text)',
  'get_node_info(text)',
  'get_subscriber_info(text)',
  'register_subscriber(text,text,text,bigint)',
  'unregister_subscriber(text,text)',
  'set_subscriber_watermark(text,text,bigint)',
];
const consumerFunctions = [
  'register_consumer(text,text,text,bigint)',
  'unregister_consumer(text,text)',
  'change_consumer_provider(text,text,text)',
  'set_consumer_uptodate(text,text,boolean)',
  'set_consumer_paused(text,text,boolean)',
  'set_consumer_completed(text,text,bigint)',
  'set_consumer_error(text,text,text)',
];
const adminFunctions = [
  'create_node(text,text,text,text,text,bigint,text)',
  'drop_node(text,text)',
  'demote_root(text,integer,text)',
  'promote_branch(text)',
  'set_node_attrs(text,text)',
  'get_worker_state(text)',
  'set_global_watermark(text,bigint)',
  'set_partition_watermark(text,text,bigint)',
  'register_location(text,text,text,boolean)',
  'unregister_location(text,text)',
  'upgrade_schema()',
  'maint_watermark(text)',
];
const tables = ['node_location', 'node_info', 'local_state', 'subscriber_info'];

const roles = useLoginRoles(db, {
  nobody: null,
  reader: 'pgq_reader',
  writer: 'pgq_writer',
  admin: 'pgq_admin',
});

beforeAll(async () => {
  const node = await nodeDatabase(db, 'root');
  await createRoot(node, 'gq');
});
const may = (role: string, fn: string) => canExecute(db, role, `pgq_node.${fn}`);

describe('pgq_node grants', () => {
  it('gives each role exactly its functions', async () => {
    const expected: Record<keyof typeof roles, string[]> = {
      nobody: publicFunctions,
      reader: [...publicFunctions, ...remoteFunctions],
      writer: [...publicFunctions, ...remoteFunctions, ...consumerFunctions],
      admin: [...publicFunctions, ...remoteFunctions, ...consumerFunctions, ...adminFunctions],
    };
    const all = [...publicFunctions, ...remoteFunctions, ...consumerFunctions, ...adminFunctions];
    for (const [key, role] of Object.entries(roles)) {
      const granted: string[] = [];
      for (const fn of all) if (await may(role, fn)) granted.push(fn);
      expect(granted, key).toEqual(expected[key as keyof typeof roles]);
    }
  });

  it('every public function of the schema is in one of the lists', async () => {
    const { rows } = await db.query(
      `select p.oid::regprocedure::text as fn
         from pg_proc p where p.pronamespace = 'pgq_node'::regnamespace and p.proname not like '\\_%'
          and p.proname <> 'skytools_version'`,
    );
    const listed = new Set(
      [...publicFunctions, ...remoteFunctions, ...consumerFunctions, ...adminFunctions].map(
        (f) => `pgq_node.${f}`,
      ),
    );
    expect(rows.map((r) => r.fn).filter((fn) => !listed.has(fn))).toEqual([]);
  });

  it('tables: readers and writers select, admins change, others nothing', async () => {
    for (const table of tables) {
      const { rows } = await db.query(
        `select has_table_privilege($1, $5, 'select') as nobody_sel,
                has_table_privilege($2, $5, 'select') as reader_sel,
                has_table_privilege($2, $5, 'insert') as reader_ins,
                has_table_privilege($3, $5, 'select') as writer_sel,
                has_table_privilege($3, $5, 'update') as writer_upd,
                has_table_privilege($4, $5, 'delete') as admin_del`,
        [roles.nobody, roles.reader, roles.writer, roles.admin, `pgq_node.${table}`],
      );
      expect(rows[0], table).toEqual({
        nobody_sel: false,
        reader_sel: true,
        reader_ins: false,
        writer_sel: true,
        writer_upd: false,
        admin_del: true,
      });
    }
  });

  it('a reader may ask a provider about the node but not change it', async () => {
    const reader = await db.connect({ user: roles.reader });
    const { rows } = await reader.query(
      `select ret_code, node_type from pgq_node.get_node_info('gq')`,
    );
    expect(rows).toEqual([{ ret_code: 100, node_type: 'root' }]);
    await expectPgError(
      reader.query(`select * from pgq_node.set_node_attrs('gq', 'a=1')`),
      'permission denied for function set_node_attrs',
      '42501',
    );
  });

  it('an admin runs the definer functions without rights of its own on pgq', async () => {
    const admin = await db.connect({ user: roles.admin });
    const { rows } = await admin.query(`select * from pgq_node.set_global_watermark('gq', null)`);
    expect(rows[0]).toMatchObject({ ret_code: 200 });
  });
});
