/**
 * A database owned by a role without superuser, as on managed servers: the schemas install as
 * that role, and demote_root step 2, which upstream runs with session_replication_role =
 * replica, goes on without it and says so.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import { useTestDatabase } from '../harness/database.js';
import { one } from './node-helpers.js';

const test = useTestDatabase();
const owner = `${test.name}_owner`;
let database: string | undefined;

afterAll(async () => {
  if (database) await test.query(`drop database if exists ${quoteIdent(database)} with (force)`);
  await test.query(`drop role if exists ${quoteIdent(owner)}`);
});

describe('pgq_node on a database owned by a non-superuser', () => {
  it('installs, and demote_root step 2 works without session_replication_role', async () => {
    await test.query(`create role ${quoteIdent(owner)} login nosuperuser nocreaterole`);
    database = await test.createDatabase('owned', { owner });
    const client = new pg.Client(test.config({ database, user: owner }));
    await client.connect();
    try {
      await installSchemas(client, ['pgq', 'pgq_node']);
      await client.query(`select * from pgq_node.register_location('mq', 'n1', 'dbname=x', false)`);
      expect(
        await one(
          client,
          `select * from pgq_node.create_node('mq', 'root', 'n1', 'w', null, null, null)`,
        ),
      ).toMatchObject({ ret_code: 200 });
      await client.query(`select pgq.insert_event('mq', 'data', 'before')`);
      await client.query(`select * from pgq_node.demote_root('mq', 1, null)`);

      const notices: string[] = [];
      client.on('notice', (notice) => notices.push(notice.message ?? ''));
      await client.query('begin');
      const step2 = await one(client, `select * from pgq_node.demote_root('mq', 2, null)`);
      const role = await one(client, 'show session_replication_role');
      await client.query('commit');
      expect(step2).toEqual({
        ret_code: 200,
        ret_note: 'Step 2: Inserted last tick: mq',
        last_tick: '2',
      });
      expect(role.session_replication_role).toBe('origin');
      expect(notices).toContain('demote_root: session_replication_role not changed');

      // The last tick closes the batch holding the event written before step 1.
      await client.query(`select pgq.register_consumer_at('mq', 'probe', 1)`);
      const batch = await one(client, `select * from pgq.next_batch_info('mq', 'probe')`);
      expect(batch.cur_tick_id).toBe('2');
      const { rows } = await client.query(
        `select ev_data from pgq.get_batch_events($1) where ev_type = 'data'`,
        [batch.batch_id],
      );
      expect(rows).toEqual([{ ev_data: 'before' }]);
    } finally {
      await client.end();
    }
  });
});
