/**
 * Differential test: the same calls against upstream's pgq_node 3.5 (Debian's
 * postgresql-15-pgq-node, on PostgreSQL 15, which .ci/run installs), against ours, and against
 * ours installed over upstream's C pgq, on two nodes each; results, return codes, notes and
 * errors must match. Behaviour only: no upstream code is read or used here.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { useTestDatabase } from '../harness/database.js';

const test = useTestDatabase();
const q = 'cmpq';

type Step = [node: 'root' | 'branch', sql: string, params?: unknown[]];

const steps: Step[] = [
  [
    'root',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [q, 'root', 'dbname=root', false],
  ],
  ['root', `select * from pgq_node.create_node($1, 'root', 'root', 'rw', null, null, null)`, [q]],
  ['root', `select * from pgq_node.create_node($1, 'root', 'root', 'rw', null, null, null)`, [q]],
  ['root', `select * from pgq_node.create_node('q2', 'root', 'root', 'rw', 'x', null, null)`],
  ['root', `select * from pgq_node.create_node('q2', 'branch', 'root', 'rw', null, 1, null)`],
  ['root', `select * from pgq_node.create_node('q2', 'branch', 'root', 'rw', 'x', null, null)`],
  ['root', `select * from pgq_node.create_node('q2', 'leaf', 'root', 'rw', 'x', 1, 'nosuch')`],
  ['root', `select * from pgq_node.create_node('q3', 'root', 'nowhere', 'rw', null, null, null)`],
  [
    'root',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [q, 'branch', 'dbname=branch', false],
  ],
  ['root', 'select * from pgq_node.register_subscriber($1, $2, $3, $4)', [q, 'branch', 'bw', null]],
  [
    'root',
    'select * from pgq_node.register_subscriber($1, $2, $3, $4)',
    ['nope', 'branch', 'bw', null],
  ],
  ['root', 'select * from pgq_node.register_subscriber($1, $2, $3, $4)', [q, 'mars', 'mw', null]],
  ['root', 'select * from pgq_node.get_subscriber_info($1)', [q]],
  ['root', 'select * from pgq_node.get_node_info($1)', [q]],
  ['root', 'select * from pgq_node.get_node_info($1)', ['nope']],
  ['root', 'select * from pgq_node.get_worker_state($1)', [q]],
  ['root', 'select * from pgq_node.get_worker_state($1)', ['nope']],
  [
    'branch',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [q, 'root', 'dbname=root', false],
  ],
  [
    'branch',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [q, 'branch', 'dbname=branch', false],
  ],
  [
    'branch',
    `select * from pgq_node.create_node($1, 'branch', 'branch', 'bw', 'root', 1, null)`,
    [q],
  ],
  ['branch', 'select * from pgq_node.get_node_info($1)', [q]],
  ['branch', 'select * from pgq_node.get_worker_state($1)', [q]],
  ['branch', 'select queue_external_ticker, queue_disable_insert from pgq.queue'],
  ['root', `select pgq.insert_event($1, 'data', 'x')`, [q]],
  ['root', 'select pgq.force_tick($1)', [q]],
  ['root', 'select pgq.ticker($1)', [q]],
  ['root', 'select * from pgq_node.set_subscriber_watermark($1, $2, $3)', [q, 'branch', 2]],
  ['root', 'select * from pgq_node.set_subscriber_watermark($1, $2, $3)', [q, 'branch', 2]],
  ['root', 'select * from pgq_node.set_subscriber_watermark($1, $2, $3)', [q, 'branch', 1]],
  ['root', 'select * from pgq_node.set_subscriber_watermark($1, $2, $3)', [q, 'zz', 2]],
  ['root', 'select * from pgq_node.set_subscriber_watermark($1, $2, $3)', [q, 'branch', 99]],
  ['root', 'select * from pgq_node.get_subscriber_info($1)', [q]],
  ['root', 'select * from pgq_node.get_node_info($1)', [q]],
  ['root', 'select * from pgq_node.set_global_watermark($1, null)', [q]],
  ['root', 'select * from pgq_node.set_global_watermark($1, 1)', ['nope']],
  ['root', 'select * from pgq_node.get_worker_state($1)', [q]],
  ['root', `select * from pgq_node.set_node_attrs($1, 'a=1')`, [q]],
  ['root', `select * from pgq_node.set_node_attrs('nope', 'a=1')`],
  ['root', 'select maint_watermark from pgq_node.maint_watermark($1)', [q]],
  ['root', 'select * from pgq.maint_operations() where func_name like $1', ['pgq_node%']],
  ['branch', 'select * from pgq_node.set_global_watermark($1, 999)', [q]],
  ['branch', 'select * from pgq_node.set_global_watermark($1, null)', [q]],
  ['branch', 'select * from pgq_node.set_global_watermark($1, 1)', [q]],
  ['branch', 'select * from pgq_node.register_consumer($1, $2, $3, $4)', [q, 'c1', 'root', 1]],
  ['branch', 'select * from pgq_node.register_consumer($1, $2, $3, $4)', [q, 'c1', 'branch', 2]],
  ['branch', 'select * from pgq_node.register_consumer($1, $2, $3, $4)', ['nope', 'c1', 'root', 1]],
  ['branch', 'select * from pgq_node.register_consumer($1, $2, $3, $4)', [q, 'c2', 'mars', 1]],
  ['branch', 'select * from pgq_node.get_consumer_state($1, $2)', [q, 'c1']],
  ['branch', 'select * from pgq_node.get_consumer_state($1, $2)', [q, 'ghost']],
  ['branch', 'select * from pgq_node.get_consumer_state($1, $2)', ['nope', 'c1']],
  ['branch', 'select * from pgq_node.set_consumer_paused($1, $2, $3)', [q, 'c1', true]],
  ['branch', 'select * from pgq_node.set_consumer_paused($1, $2, $3)', [q, 'c1', true]],
  ['branch', 'select * from pgq_node.set_consumer_paused($1, $2, $3)', [q, 'c1', false]],
  ['branch', 'select * from pgq_node.set_consumer_paused($1, $2, $3)', [q, 'c1', false]],
  ['branch', 'select * from pgq_node.set_consumer_paused($1, $2, $3)', [q, 'ghost', true]],
  ['branch', 'select * from pgq_node.set_consumer_uptodate($1, $2, $3)', [q, 'c1', true]],
  ['branch', 'select * from pgq_node.set_consumer_uptodate($1, $2, $3)', [q, 'c1', false]],
  ['branch', 'select * from pgq_node.set_consumer_uptodate($1, $2, $3)', [q, 'ghost', true]],
  ['branch', 'select * from pgq_node.set_consumer_error($1, $2, $3)', [q, 'c1', 'boom']],
  ['branch', 'select * from pgq_node.set_consumer_error($1, $2, $3)', [q, 'ghost', 'boom']],
  ['branch', 'select * from pgq_node.set_consumer_completed($1, $2, $3)', [q, 'c1', 2]],
  ['branch', 'select * from pgq_node.set_consumer_completed($1, $2, $3)', [q, 'ghost', 2]],
  ['branch', 'select * from pgq_node.change_consumer_provider($1, $2, $3)', [q, 'c1', 'root']],
  ['branch', 'select * from pgq_node.change_consumer_provider($1, $2, $3)', [q, 'c1', 'mars']],
  ['branch', 'select * from pgq_node.change_consumer_provider($1, $2, $3)', [q, 'ghost', 'root']],
  ['branch', 'select * from pgq_node.get_consumer_info($1)', [q]],
  ['branch', 'select * from pgq_node.unregister_consumer($1, $2)', [q, 'c1']],
  ['branch', 'select * from pgq_node.unregister_consumer($1, $2)', [q, 'c1']],
  ['branch', 'select * from pgq_node.unregister_consumer($1, $2)', ['nope', 'c1']],
  ['branch', 'select * from pgq_node.unregister_location($1, $2)', ['other', 'x']],
  ['branch', 'select * from pgq_node.drop_node($1, $2)', ['other', 'x']],
  ['branch', 'select pgq_node.is_root_node($1) as r, pgq_node.is_leaf_node($1) as l', [q]],
  ['branch', 'select pgq_node.is_root_node($1)', ['nope']],
  ['branch', 'select pgq_node.is_leaf_node($1)', ['nope']],
  ['branch', 'select * from pgq_node.demote_root($1, 1, null)', [q]],
  ['branch', 'select * from pgq_node.demote_root($1, 1, null)', ['nope']],
  ['branch', 'select * from pgq_node.promote_branch($1)', ['nope']],
  ['root', 'select * from pgq_node.promote_branch($1)', [q]],
  ['root', 'select * from pgq_node.demote_root($1, 2, null)', [q]],
  ['root', 'select * from pgq_node.demote_root($1, 1, null)', [q]],
  ['root', 'select * from pgq_node.demote_root($1, 1, null)', [q]],
  ['root', 'select * from pgq_node.demote_root($1, 2, null)', [q]],
  ['root', `select * from pgq_node.demote_root($1, 3, 'branch')`, [q]],
  ['root', `select * from pgq_node.demote_root($1, 3, 'branch')`, [q]],
  ['root', 'select * from pgq_node.get_worker_state($1)', [q]],
  ['branch', 'select * from pgq_node.promote_branch($1)', [q]],
  ['branch', 'select * from pgq_node.promote_branch($1)', [q]],
  ['branch', 'select * from pgq_node.get_worker_state($1)', [q]],
  ['branch', 'select queue_external_ticker, queue_disable_insert from pgq.queue'],
  ['root', 'select * from pgq_node.unregister_location($1, $2)', [q, 'root']],
  ['root', 'select * from pgq_node.unregister_location($1, $2)', [q, 'branch']],
  ['root', 'select * from pgq_node.unregister_location($1, $2)', [q, 'zz']],
  ['branch', 'select * from pgq_node.unregister_subscriber($1, $2)', [q, 'zz']],
  ['branch', 'select * from pgq_node.register_subscriber($1, $2, $3, $4)', [q, 'root', 'rw', 3]],
  ['branch', 'select * from pgq_node.get_subscriber_info($1)', [q]],
  ['root', 'select * from pgq_node.drop_node($1, $2)', [q, 'branch']],
  ['root', 'select * from pgq_node.set_partition_watermark($1, $2, $3)', ['x', 'y', 1]],
  [
    'root',
    `select ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3 from pgq.event_template order by ev_id`,
  ],
  ['branch', 'select * from pgq_node.unregister_subscriber($1, $2)', [q, 'root']],
  ['branch', 'select * from pgq_node.drop_node($1, $2)', [q, 'root']],
  [
    'branch',
    `select ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3 from pgq.event_template order by ev_id`,
  ],
  ['branch', 'select * from pgq_node.get_queue_locations($1) order by node_name', [q]],
  ['root', 'select * from pgq_node.drop_node($1, $2)', [q, 'root']],
  ['root', 'select count(*) from pgq.queue'],
  ['root', 'select * from pgq_node.get_queue_locations($1) order by node_name', [q]],
  // NULLs
  [
    'branch',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [null, 'n', 'dbname=n', false],
  ],
  ['branch', 'select * from pgq_node.get_node_info($1)', [null]],
  ['branch', 'select * from pgq_node.demote_root($1, $2, null)', [q, null]],
  ['branch', 'select * from pgq_node.demote_root($1, $2, null)', [q, 7]],
  ['branch', 'select pgq_node.version()'],
];

async function run(db: pg.Client, sql: string, params?: unknown[]) {
  try {
    const { rows } = await db.query(sql, params);
    return { rows };
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { error: { code, message } };
  }
}

const edgeSteps: Step[] = [
  // a root and a merge leaf of another queue on the same database, hostile names
  [
    'root',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [`q'"ü.x`, `n.1 'a'`, 'dbname=x', null],
  ],
  [
    'root',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [`q'"ü.x`, `n.1 'a'`, 'dbname=x', false],
  ],
  ['root', 'select * from pgq_node.get_queue_locations($1)', [`q'"ü.x`]],
  [
    'root',
    `select * from pgq_node.create_node($1, 'root', $2, $3, null, null, null)`,
    [`q'"ü.x`, `n.1 'a'`, 'w"1'],
  ],
  [
    'root',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    ['part', `n.1 'a'`, 'dbname=x', false],
  ],
  [
    'root',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    ['part', 'up', 'dbname=up', false],
  ],
  [
    'root',
    `select * from pgq_node.create_node('part', 'leaf', $1, 'mw', 'up', null, $2)`,
    [`n.1 'a'`, `q'"ü.x`],
  ],
  [
    'root',
    `select * from pgq_node.create_node('part', 'leaf', $1, null, 'up', 5, $2)`,
    [`n.1 'a'`, `q'"ü.x`],
  ],
  [
    'root',
    `select * from pgq_node.create_node('part', 'leaf', $1, 'mw', 'up', 5, $2)`,
    [`n.1 'a'`, `q'"ü.x`],
  ],
  ['root', 'select * from pgq_node.get_node_info($1)', ['part']],
  ['root', 'select * from pgq_node.get_node_info($1)', [`q'"ü.x`]],
  ['root', 'select * from pgq_node.get_worker_state($1)', ['part']],
  ['root', 'select * from pgq_node.set_partition_watermark($1, $2, $3)', [`q'"ü.x`, 'part', 7]],
  ['root', 'select * from pgq_node.set_partition_watermark($1, $2, $3)', ['other', 'part', 7]],
  ['root', 'select * from pgq_node.get_consumer_info($1)', ['part']],
  ['root', 'select * from pgq_node.register_consumer($1, $2, $3, $4)', ['part', 'mw', 'up', null]],
  ['root', 'select * from pgq_node.register_consumer($1, $2, $3, $4)', ['part', 'new', 'up', null]],
  ['root', 'select * from pgq_node.get_consumer_info($1)', ['part']],
  ['root', 'select * from pgq_node.set_consumer_paused($1, $2, $3)', ['part', 'mw', null]],
  ['root', 'select * from pgq_node.set_consumer_uptodate($1, $2, $3)', ['part', 'mw', null]],
  ['root', 'select * from pgq_node.set_consumer_error($1, $2, $3)', ['part', 'mw', null]],
  ['root', 'select * from pgq_node.set_consumer_completed($1, $2, $3)', ['part', 'mw', null]],
  ['root', 'select * from pgq_node.set_global_watermark($1, $2)', ['part', 3]],
  ['root', 'select * from pgq_node.register_subscriber($1, $2, $3, $4)', ['part', 'up', 'w', null]],
  ['root', 'select maint_watermark from pgq_node.maint_watermark($1)', ['part']],
  ['root', 'select * from pgq_node.is_leaf_node($1)', ['part']],
  // subscribers with names that need quoting; re-registration
  [
    'root',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [`q'"ü.x`, 'sub "1"', 'dbname=s', false],
  ],
  [
    'root',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [`q'"ü.x`, 'ghost', null, true],
  ],
  [
    'root',
    'select * from pgq_node.register_location($1, $2, $3, $4)',
    [`q'"ü.x`, 'sub "1"', null, true],
  ],
  ['root', 'select * from pgq_node.get_queue_locations($1) order by node_name', [`q'"ü.x`]],
  [
    'root',
    'select * from pgq_node.register_subscriber($1, $2, $3, $4)',
    [`q'"ü.x`, 'sub "1"', `sw'1`, null],
  ],
  ['root', `select pgq.insert_event($1, 'data', 'x')`, [`q'"ü.x`]],
  ['root', 'select pgq.force_tick($1)', [`q'"ü.x`]],
  ['root', 'select pgq.ticker($1)', [`q'"ü.x`]],
  [
    'root',
    'select * from pgq_node.set_subscriber_watermark($1, $2, $3)',
    [`q'"ü.x`, 'sub "1"', null],
  ],
  ['root', 'select * from pgq_node.set_subscriber_watermark($1, $2, $3)', [`q'"ü.x`, 'sub "1"', 2]],
  [
    'root',
    'select * from pgq_node.register_subscriber($1, $2, $3, $4)',
    [`q'"ü.x`, 'sub "1"', 'sw2', 2],
  ],
  ['root', 'select * from pgq_node.get_subscriber_info($1)', [`q'"ü.x`]],
  ['root', 'select consumer_name, last_tick from pgq.get_consumer_info($1) order by 1', [`q'"ü.x`]],
  ['root', 'select * from pgq_node.get_node_info($1)', [`q'"ü.x`]],
  ['root', 'select * from pgq_node.unregister_location($1, $2)', [`q'"ü.x`, 'sub "1"']],
  ['root', 'select consumer_name, last_tick from pgq.get_consumer_info($1) order by 1', [`q'"ü.x`]],
  ['root', `update pgq.tick set tick_time = now() - interval '6 minutes'`],
  ['root', 'select maint_watermark from pgq_node.maint_watermark($1)', [`q'"ü.x`]],
  ['root', 'select consumer_name, last_tick from pgq.get_consumer_info($1) order by 1', [`q'"ü.x`]],
  [
    'root',
    `select ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3 from pgq.event_template order by ev_id`,
  ],
  ['root', 'select * from pgq_node.drop_node($1, $2)', ['part', `n.1 'a'`]],
  ['root', 'select * from pgq_node.get_node_info($1)', [`q'"ü.x`]],
  [
    'root',
    'select * from pgq_node.create_node($1, $2, $3, $4, $5, $6, $7)',
    ['q9', 'leaf', `n.1 'a'`, 'w', 'up', 1, null],
  ],
];

describe('pgq_node against upstream pgq_node 3.5', () => {
  it.each([
    ['a root and a branch through their life cycle', 'main', steps],
    ['a merge leaf, quoted names, NULLs, re-registration, maint_watermark', 'edge', edgeSteps],
  ] as const)('%s: the same results, codes, notes and errors', async (_title, name, script) => {
    const { rows } = await test.query(
      `select 1 from pg_available_extensions where name = 'pgq_node'`,
    );
    if (rows.length === 0) {
      // Only Debian's PostgreSQL 15 packages have it; .ci/run installs them there.
      expect(test.cluster.pgMajor).not.toBe(15);
      return;
    }
    const template = { template: test.cluster.templateDatabase };
    // Ours on top of upstream's C pgq: the installer accepts it as the pgq it needs.
    const mixed = {
      root: await test.connect({ database: await test.createDatabase(`${name}_mix_root`) }),
      branch: await test.connect({ database: await test.createDatabase(`${name}_mix_branch`) }),
    };
    for (const db of Object.values(mixed)) {
      await db.query('create extension pgq');
      await installSchemas(db, ['pgq_node']);
    }
    const nodes = {
      upstream: {
        root: await test.connect({ database: await test.createDatabase(`${name}_up_root`) }),
        branch: await test.connect({ database: await test.createDatabase(`${name}_up_branch`) }),
      },
      ours: {
        root: await test.connect({ database: await test.createDatabase(`${name}_root`, template) }),
        branch: await test.connect({
          database: await test.createDatabase(`${name}_branch`, template),
        }),
      },
    };
    for (const db of Object.values(nodes.upstream))
      await db.query('create extension pgq_node cascade');

    const mismatches: unknown[] = [];
    for (const [i, [node, sql, params]] of script.entries()) {
      const upstream = await run(nodes.upstream[node], sql, params);
      const ours = await run(nodes.ours[node], sql, params);
      const onUpstreamPgq = await run(mixed[node], sql, params);
      try {
        expect(ours).toEqual(upstream);
      } catch {
        mismatches.push({ step: i, node, sql, params, upstream, ours });
      }
      try {
        expect(onUpstreamPgq).toEqual(upstream);
      } catch {
        mismatches.push({ step: i, node, sql, params, upstream, onUpstreamPgq });
      }
    }
    expect(mismatches).toEqual([]);
  });
});
