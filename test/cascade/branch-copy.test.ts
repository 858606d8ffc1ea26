/**
 * The branch's streamed copy keeps every event byte for byte: COPY escapes (tabs, newlines,
 * backslashes, carriage returns), NULLs, unicode, a multi-megabyte payload, data that looks
 * like a cascade event, retried events (ev_retry); and cascade events whose fields need
 * unescaping are applied with their real values.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { parseCopyField } from '../../src/pgq/copy-text.js';
import { useTestDatabase } from '../harness/database.js';
import {
  batches,
  createChain,
  queueEvents,
  sharedNodes,
  type TestNode,
  tickRoot,
  ticks,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'copyq';
let root: TestNode;
let branch: TestNode;
let start: string;

beforeAll(async () => {
  [root, branch] = await sharedNodes(test, 'root', 'branch');
  start = await createChain(queue, [root, branch]);
});

const hostile = [
  'tab\there',
  'new\nline',
  'cr\rreturn',
  'back\\slash \\N \\t',
  'ünïcödé ✓ 日本 🎉',
  '\tpgq.location-info\tlooks like a cascade event',
  'pgq.location-info',
  '',
  'x'.repeat(3 * 1024 * 1024),
];

describe('branch copy', () => {
  it('keeps payloads, NULLs, retries and ids exactly; applies escaped cascade events', async () => {
    for (const [i, data] of hostile.entries()) {
      await root.db.query(`select pgq.insert_event($1, $2, $3, $4, null, $5, $6)`, [
        queue,
        i % 2 === 0 ? 'data' : 'pgq-like.type',
        data,
        i % 3 === 0 ? null : `e1\t${i}`,
        `e3\\${i}`,
        i === 1 ? '' : null,
      ]);
    }
    await root.db.query(`select pgq.insert_event($1, 'data', null)`, [queue]);
    // A location whose connect string needs escaping in COPY text.
    await root.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      'odd\tnode',
      "dbname='a\\b' host=x\tapplication_name=ü",
    ]);
    await tickRoot(root.db, queue);
    // A retried event: ev_retry set, inserted again by maintenance.
    await root.db.query(
      `update pgq.event_template set ev_retry = 3 where ev_data = 'new' || chr(10) || 'line'`,
    );
    await root.db.query(`select pgq.insert_event($1, 'data', 'last')`, [queue]);
    await tickRoot(root.db, queue);

    const worker = new CascadedWorker({
      connection: branch.config,
      queue,
      batchMaxBytes: 64 * 1024,
    });
    try {
      while (await worker.runOnce()) {
        // until the branch has every batch
      }
    } finally {
      await worker.close();
    }
    const rootEvents = await queueEvents(root.db, queue);
    expect(rootEvents.some((e) => e.ev_retry === 3)).toBe(true);
    expect(await queueEvents(branch.db, queue)).toEqual(rootEvents);
    expect(await ticks(branch.db, queue, start)).toEqual(await ticks(root.db, queue, start));
    expect(await batches(branch.db, queue, start)).toEqual(await batches(root.db, queue, start));
    const { rows } = await branch.db.query(
      `select node_location from pgq_node.node_location where queue_name = $1 and node_name = $2`,
      [queue, 'odd\tnode'],
    );
    expect(rows).toEqual([{ node_location: "dbname='a\\b' host=x\tapplication_name=ü" }]);
  });

  it('unescapes COPY text fields as PostgreSQL writes them', () => {
    expect(parseCopyField('\\N')).toBeNull();
    expect(parseCopyField('plain')).toBe('plain');
    expect(parseCopyField('a\\tb\\nc\\rd\\\\e\\bf\\fg\\vh')).toBe('a\tb\nc\rd\\e\bf\fg\vh');
    expect(parseCopyField('\\101\\x42')).toBe('AB');
  });
});
