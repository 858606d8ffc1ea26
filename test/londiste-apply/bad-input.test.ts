/**
 * Refusals with one clear line and nothing half-written: an event column the destination
 * lacks, an unknown handler, an argument the handler does not take or a bad value of one.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SkytoolsError } from '../../src/errors.js';
import { createTableHandler } from '../../src/londiste/handlers/registry.js';
import { useTestDatabase } from '../harness/database.js';
import {
  applyPending,
  createQueue,
  createTablePair,
  defaultHandlers,
  type TriggerKind,
} from './helpers.js';

const test = useTestDatabase();
let db: pg.Client;

beforeAll(async () => {
  db = await test.connect();
});

const table = { tableName: 'public.t', destTable: 'public.t' };

describe.each<TriggerKind>(['logutriga', 'sqltriga', 'jsontriga'])('%s', (kind) => {
  it('an event column the destination lacks fails naming table and column', async () => {
    const queue = `q_missing_${kind}`;
    await createQueue(db, queue);
    const t = await createTablePair(
      db,
      queue,
      `missing_${kind}`,
      'id int primary key, v text',
      kind,
    );
    await db.query(`alter table ${t.src} add column "Only Here" int`);
    const handlers = defaultHandlers([t]);
    await db.query(`insert into ${t.dst} values (100, 'kept')`);
    await db.query(`insert into ${t.src} values (1, 'a', 5)`);
    const failure = await applyPending(db, queue, handlers).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SkytoolsError);
    const message = (failure as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain('Only Here');
    expect(message).toContain(kind === 'sqltriga' ? 'missing_sqltriga' : `dst.missing_${kind}`);
    if (kind !== 'sqltriga') {
      expect((failure as SkytoolsError).code).toBe('UNKNOWN_COLUMN');
      expect(message).toMatch(
        /^column "Only Here" of table dst\.missing_\w+ does not exist \(events of src\.missing_\w+: \d+\)$/,
      );
    }
    const { rows } = await db.query(`select * from ${t.dst}`);
    expect(rows).toEqual([{ id: 100, v: 'kept' }]);
    // The batch was not finished: once the destination has the column, it applies.
    await db.query(`alter table ${t.dst} add column "Only Here" int`);
    await applyPending(db, queue, handlers);
    const after = await db.query(`select * from ${t.dst} order by id`);
    expect(after.rows).toEqual([
      { id: 1, v: 'a', 'Only Here': 5 },
      { id: 100, v: 'kept', 'Only Here': null },
    ]);
  });
});

describe('handler specs', () => {
  it('an unknown handler is refused by name', () => {
    expect(() => createTableHandler({ name: 'no_such', args: {} }, table)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_HANDLER', message: 'Unknown handler: no_such' }),
    );
  });

  it('an argument the handler does not take is refused with upstream text', () => {
    expect(() =>
      createTableHandler({ name: 'londiste', args: { encoding: 'utf8', foo: '1' } }, table),
    ).toThrow(
      expect.objectContaining({
        code: 'BAD_HANDLER_ARG',
        message: "Invalid handler argument: ['encoding', 'foo']",
      }),
    );
  });

  it('ignore_truncate takes 0 or 1 only', () => {
    expect(() =>
      createTableHandler({ name: 'londiste', args: { ignore_truncate: 'yes' } }, table),
    ).toThrow(
      expect.objectContaining({
        code: 'BAD_HANDLER_ARG',
        message: "Invalid handler argument: ['ignore_truncate=yes']",
      }),
    );
    expect(
      createTableHandler({ name: 'londiste', args: { ignore_truncate: '1' } }, table),
    ).toBeDefined();
  });
});
