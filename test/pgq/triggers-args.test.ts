/**
 * Arguments of the pgq triggers after the queue name, one behaviour per test: ignore=,
 * pkey=, backup, deny, when=, the ev_*= overrides, SKIP, and the magic `_pgq_ev_*` columns.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  createTrigger,
  events,
  expectPgError,
  newQueue,
  tableRows,
  typeAndData,
} from './trigger-helpers.js';

const db = useTestDatabase();
let client: pg.Client;

beforeAll(async () => {
  client = await db.connect();
});

/** A table with the three triggers, each with the same extra arguments. */
async function allTriggers(table: string, columns: string, args: string[]) {
  const queue = await newQueue(client);
  await client.query(`create table ${table} ${columns}`);
  for (const fn of ['jsontriga', 'logutriga', 'sqltriga'] as const) {
    await client.query(createTrigger(fn, table, [queue, ...args]));
  }
  return queue;
}

describe('ignore=', () => {
  it('leaves columns out and drops updates that change only them', async () => {
    const queue = await allTriggers('a_ignore', '(id int primary key, b text, c text, d int)', [
      'ignore=c, d',
    ]);
    await client.query(`insert into a_ignore values (1, 'x', 'y', 1)`);
    await client.query(`update a_ignore set c = 'z'`); // ignored only: no event
    await client.query('update a_ignore set d = 2, c = null'); // ignored only: no event
    await client.query('update a_ignore set b = b'); // nothing changed: an event
    await client.query(`update a_ignore set b = 'q', c = 'w'`); // b changed: an event
    await client.query('delete from a_ignore');
    const json = (op: string) => `{"op":"${op}","table":["public","a_ignore"],"pkey":["id"]}`;
    expect(await typeAndData(client, queue)).toEqual([
      [json('INSERT'), '{"id":1,"b":"x"}'],
      ['I:id', 'id=1&b=x'],
      ['I', `(id,b) values ('1','x')`],
      [json('UPDATE'), '{"id":1,"b":"x"}'],
      ['U:id', 'id=1&b=x'],
      ['U', `id='1' where id='1'`],
      [json('UPDATE'), '{"id":1,"b":"q"}'],
      ['U:id', 'id=1&b=q'],
      ['U', `b='q' where id='1'`],
      [json('DELETE'), '{"id":1,"b":"q"}'],
      ['D:id', 'id=1&b=q'],
      ['D', `id='1'`],
    ]);
  });

  it('may leave out a key column, which still keys the event', async () => {
    const queue = await allTriggers('a_ignore_key', '(id int primary key, v text)', ['ignore=id']);
    await client.query(`insert into a_ignore_key values (1, 'a')`);
    await client.query(`update a_ignore_key set v = 'b'`);
    await client.query('delete from a_ignore_key');
    const json = (op: string) => `{"op":"${op}","table":["public","a_ignore_key"],"pkey":["id"]}`;
    expect(await typeAndData(client, queue)).toEqual([
      [json('INSERT'), '{"v":"a"}'],
      ['I:id', 'v=a'],
      ['I', `(v) values ('a')`],
      [json('UPDATE'), '{"v":"b"}'],
      ['U:id', 'v=b'],
      ['U', `v='b' where id='1'`],
      [json('DELETE'), '{"v":"b"}'],
      ['D:id', 'v=b'],
      ['D', `id='1'`],
    ]);
  });

  it('takes the last ignore= when given twice', async () => {
    const queue = await newQueue(client);
    await client.query('create table a_ignore_twice (id int primary key, v text)');
    await client.query(
      createTrigger('logutriga', 'a_ignore_twice', [queue, 'ignore=id', 'ignore=v']),
    );
    await client.query(`insert into a_ignore_twice values (2, 'x')`);
    expect(await typeAndData(client, queue)).toEqual([['I:id', 'id=2']]);
  });
});

describe('pkey=', () => {
  it('keys a table without a primary key, written as given', async () => {
    const queue = await newQueue(client);
    await client.query('create table a_pkey (a int, b text, c int)');
    await client.query(createTrigger('logutriga', 'a_pkey', [queue, 'pkey=b, a']));
    await client.query(createTrigger('sqltriga', 'a_pkey', [queue, 'pkey=b, a']));
    await client.query(createTrigger('jsontriga', 'a_pkey', [queue, 'pkey=b, a']));
    await client.query(`insert into a_pkey values (1, 'x', 1)`);
    await client.query('update a_pkey set c = 2');
    await client.query('delete from a_pkey');
    // ev_type carries the argument text; the where-clause lists the columns in table order
    const json = (op: string) => `{"op":"${op}","table":["public","a_pkey"],"pkey":["b"," a"]}`;
    expect(await typeAndData(client, queue)).toEqual([
      [json('INSERT'), '{"a":1,"b":"x","c":1}'],
      ['I:b, a', 'a=1&b=x&c=1'],
      ['I', `(a,b,c) values ('1','x','1')`],
      [json('UPDATE'), '{"a":1,"b":"x","c":2}'],
      ['U:b, a', 'a=1&b=x&c=2'],
      ['U', `c='2' where a='1' and b='x'`],
      [json('DELETE'), '{"a":1,"b":"x","c":2}'],
      ['D:b, a', 'a=1&b=x&c=2'],
      ['D', `a='1' and b='x'`],
    ]);
  });

  it('replaces the primary key, and the last pkey= counts', async () => {
    const queue = await newQueue(client);
    await client.query('create table a_pkey_over (id int primary key, code text, v text)');
    await client.query(createTrigger('sqltriga', 'a_pkey_over', [queue, 'pkey=id', 'pkey=code']));
    await client.query(`insert into a_pkey_over values (1, 'c1', 'v')`);
    await client.query(`update a_pkey_over set v = 'w', id = 2`); // id is no longer the key
    await expectPgError(
      client.query(`update a_pkey_over set code = 'c2'`),
      'primary key update not allowed',
    );
    expect(await typeAndData(client, queue)).toEqual([
      ['I', `(id,code,v) values ('1','c1','v')`],
      ['U', `id='2',v='w' where code='c1'`],
    ]);
  });
});

describe('backup', () => {
  it('puts the old row into ev_extra2 of updates, in each format', async () => {
    const queue = await allTriggers('a_backup', '(id int primary key, v text, skipped text)', [
      'backup',
      'ignore=skipped',
    ]);
    await client.query(`insert into a_backup values (1, 'old', 's')`);
    await client.query(`update a_backup set v = null, skipped = 't'`);
    await client.query('delete from a_backup');
    const queued = await events(client, queue);
    expect(queued.map((ev) => [ev.ev_type?.slice(0, 12), ev.ev_extra2])).toEqual([
      ['{"op":"INSER', null],
      ['I:id', null],
      ['I', null],
      ['{"op":"UPDAT', '{"id":1,"v":"old"}'],
      ['U:id', 'id=1&v=old'],
      ['U', 'id=1&v=old'],
      ['{"op":"DELET', null],
      ['D:id', null],
      ['D', null],
    ]);
    expect(queued[5]?.ev_data).toBe(`v=NULL where id='1'`);
  });
});

describe('deny', () => {
  it('rejects every change and leaves table and queue as they were', async () => {
    const queue = await newQueue(client);
    await client.query(`create table a_deny (id int primary key, v text);
                        insert into a_deny values (1, 'a')`);
    await client.query(createTrigger('logutriga', 'a_deny', [queue, 'deny']));
    const message = (op: string) =>
      `Table 'public.a_deny' to queue '${queue}': change not allowed (${op})`;
    await expectPgError(client.query(`insert into a_deny values (2, 'b')`), message('INSERT'));
    await expectPgError(client.query(`update a_deny set v = 'c'`), message('UPDATE'));
    await expectPgError(client.query('delete from a_deny'), message('DELETE'));
    expect(await tableRows(client, 'a_deny')).toEqual(['(1,a)']);
    expect(await events(client, queue)).toEqual([]);
  });

  it('is checked even when when= is false or only ignored columns change', async () => {
    const queue = await newQueue(client);
    await client.query(`create table a_deny_when (id int primary key, v text);
                        insert into a_deny_when values (1, 'a')`);
    await client.query(
      createTrigger('jsontriga', 'a_deny_when', [queue, 'deny', 'when=false', 'ignore=v']),
    );
    await expectPgError(
      client.query(`update a_deny_when set v = 'b'`),
      `Table 'public.a_deny_when' to queue '${queue}': change not allowed (UPDATE)`,
    );
    expect(await tableRows(client, 'a_deny_when')).toEqual(['(1,a)']);
  });
});

describe('when=', () => {
  it('queues only rows for which the expression is true, on NEW or on OLD for deletes', async () => {
    const queue = await newQueue(client);
    await client.query('create table a_when (id int primary key, "Kind" text, n int)');
    await client.query(
      createTrigger('logutriga', 'a_when', [queue, `when="Kind" = 'keep' and n > 0`]),
    );
    await client.query(
      `insert into a_when values (1, 'keep', 1), (2, 'drop', 1), (3, 'keep', 0), (4, 'keep', 5)`,
    );
    await client.query(`update a_when set "Kind" = 'drop' where id = 4`); // false on NEW
    await client.query(`update a_when set n = 2 where id = 3`); // true on NEW
    await client.query('delete from a_when where id in (1, 2)'); // OLD: 1 true, 2 false
    expect(await typeAndData(client, queue)).toEqual([
      ['I:id', 'id=1&Kind=keep&n=1'],
      ['I:id', 'id=4&Kind=keep&n=5'],
      ['U:id', 'id=3&Kind=keep&n=2'],
      ['D:id', 'id=1&Kind=keep&n=1'],
    ]);
    expect(await tableRows(client, 'a_when')).toEqual(['(3,keep,2)', '(4,drop,5)']);
  });

  it('reaches mixed-case columns written unquoted, as upstream matches names as written', async () => {
    const queue = await newQueue(client);
    await client.query('create table a_when_case (id int primary key, "Kind" text)');
    await client.query(createTrigger('logutriga', 'a_when_case', [queue, `when=Kind = 'keep'`]));
    await client.query(`insert into a_when_case values (1, 'keep'), (2, 'drop')`);
    expect(await typeAndData(client, queue)).toEqual([['I:id', 'id=1&Kind=keep']]);
  });

  it('uses the first when= when given twice', async () => {
    const queue = await newQueue(client);
    await client.query('create table a_when_twice (a int)');
    await client.query(createTrigger('logutriga', 'a_when_twice', [queue, 'when=a=1', 'when=a=2']));
    await client.query('insert into a_when_twice values (1), (2)');
    expect(await typeAndData(client, queue)).toEqual([['I:', 'a=1']]);
  });
});

describe('ev_type=, ev_data=, ev_extra1= .. ev_extra4=', () => {
  it('replace the fields with expressions over the row', async () => {
    const queue = await newQueue(client);
    await client.query(`create table a_expr (id int primary key, "Val" text, w int)`);
    await client.query(
      createTrigger('logutriga', 'a_expr', [
        queue,
        `ev_type='T:' || id`,
        'ev_data=w * 2',
        'ev_extra1=Val',
        `ev_extra2="Val" || '!'`,
        'ev_extra3=w > 0',
        `ev_extra4='10.0.0.1'::inet`,
      ]),
    );
    await client.query(`insert into a_expr values (1, 'a', 1), (2, null, -1)`);
    await client.query(`delete from a_expr where id = 2`);
    // values as their type's text output: bool t/f, inet without /32
    expect(await events(client, queue)).toEqual([
      {
        ev_type: 'T:1',
        ev_data: '2',
        ev_extra1: 'a',
        ev_extra2: 'a!',
        ev_extra3: 't',
        ev_extra4: '10.0.0.1',
      },
      {
        ev_type: 'T:2',
        ev_data: '-2',
        ev_extra1: null,
        ev_extra2: null,
        ev_extra3: 'f',
        ev_extra4: '10.0.0.1',
      },
      {
        ev_type: 'T:2',
        ev_data: '-2',
        ev_extra1: null,
        ev_extra2: null,
        ev_extra3: 'f',
        ev_extra4: '10.0.0.1',
      },
    ]);
  });

  it('give NULL for an empty expression, use the first of duplicates and beat backup', async () => {
    const queue = await newQueue(client);
    await client.query(`create table a_expr_rules (id int primary key, v text)`);
    await client.query(
      createTrigger('sqltriga', 'a_expr_rules', [
        queue,
        'ev_extra1=',
        'ev_type=1',
        'ev_type=2',
        'backup',
        `ev_extra2='over'`,
      ]),
    );
    await client.query(`insert into a_expr_rules values (1, 'a')`);
    await client.query(`update a_expr_rules set v = 'b'`);
    expect(await events(client, queue)).toEqual([
      {
        ev_type: '1',
        ev_data: `(id,v) values ('1','a')`,
        ev_extra1: null,
        ev_extra2: 'over',
        ev_extra3: null,
        ev_extra4: null,
      },
      {
        ev_type: '1',
        ev_data: `v='b' where id='1'`,
        ev_extra1: null,
        ev_extra2: 'over',
        ev_extra3: null,
        ev_extra4: null,
      },
    ]);
  });

  it('run before when= is checked, as upstream: also for rows when= then drops', async () => {
    const queue = await newQueue(client);
    await client.query(`create sequence a_expr_seq;
                        create table a_expr_order (id int primary key, v int)`);
    await client.query(
      createTrigger('logutriga', 'a_expr_order', [
        queue,
        `ev_extra1=nextval('a_expr_seq')`,
        'when=v <> 0',
      ]),
    );
    await client.query('insert into a_expr_order values (1, 0), (2, 4)');
    expect((await events(client, queue)).map((ev) => ev.ev_extra1)).toEqual(['2']);
  });
});

describe('SKIP', () => {
  it('in a BEFORE trigger queues the event but drops the row change', async () => {
    const queue = await newQueue(client);
    await client.query(`create table a_skip (id int primary key, v text, z text);
                        insert into a_skip values (1, 'a', 'z')`);
    await client.query(
      createTrigger('logutriga', 'a_skip', [queue, 'SKIP', 'ignore=v'], { timing: 'BEFORE' }),
    );
    await client.query(`insert into a_skip values (2, 'b', 'y')`);
    await client.query(`update a_skip set z = 'changed'`);
    await client.query(`update a_skip set v = 'ignored'`); // no event, and still not stored
    await client.query('delete from a_skip');
    expect(await typeAndData(client, queue)).toEqual([
      ['I:id', 'id=2&z=y'],
      ['U:id', 'id=1&z=changed'],
      ['D:id', 'id=1&z=z'],
    ]);
    expect(await tableRows(client, 'a_skip')).toEqual(['(1,a,z)']);
  });

  it('is not needed for BEFORE triggers, which otherwise keep the row', async () => {
    const queue = await newQueue(client);
    await client.query('create table a_before (id int primary key, v text)');
    await client.query(createTrigger('sqltriga', 'a_before', [queue], { timing: 'BEFORE' }));
    await client.query(`insert into a_before values (1, 'a')`);
    await client.query(`update a_before set v = 'b'`);
    expect(await typeAndData(client, queue)).toEqual([
      ['I', `(id,v) values ('1','a')`],
      ['U', `v='b' where id='1'`],
    ]);
    expect(await tableRows(client, 'a_before')).toEqual(['(1,b)']);
  });
});

describe('magic columns', () => {
  it('_pgq_ev_* columns set the fields and stay out of the payload', async () => {
    const queue = await allTriggers(
      'a_magic',
      `(id int primary key, _pgq_ev_type text, _pgq_ev_data text, _pgq_ev_extra1 text,
        _pgq_ev_extra2 text, _pgq_ev_extra3 text, _pgq_ev_extra4 text, v text)`,
      [],
    );
    await client.query(`insert into a_magic values (1, 'T', 'D', 'E1', 'E2', 'E3', 'E4', 'vv')`);
    await client.query('insert into a_magic (id, v) values (2, null)');
    await client.query(`update a_magic set _pgq_ev_type = 'T2' where id = 1`);
    await client.query('delete from a_magic where id = 1');
    const queued = await events(client, queue);
    const fields = {
      ev_type: 'T',
      ev_data: 'D',
      ev_extra1: 'E1',
      ev_extra2: 'E2',
      ev_extra3: 'E3',
      ev_extra4: 'E4',
    };
    const nulls = {
      ev_type: null,
      ev_data: null,
      ev_extra1: null,
      ev_extra2: null,
      ev_extra3: null,
      ev_extra4: null,
    };
    expect(queued).toEqual([
      fields,
      fields,
      fields, // insert 1: each trigger
      nulls,
      nulls,
      nulls, // insert 2: NULL magic values give NULL fields
      { ...fields, ev_type: 'T2' },
      { ...fields, ev_type: 'T2' },
      { ...fields, ev_type: 'T2' },
      { ...fields, ev_type: 'T2' },
      { ...fields, ev_type: 'T2' },
      { ...fields, ev_type: 'T2' }, // delete: OLD
    ]);
  });

  it('are left out of the data, and expressions win over them', async () => {
    const queue = await newQueue(client);
    await client.query('create table a_magic_data (id int primary key, _pgq_ev_type text, v text)');
    await client.query(createTrigger('sqltriga', 'a_magic_data', [queue, `ev_extra3=v || '!'`]));
    await client.query(createTrigger('jsontriga', 'a_magic_data', [queue, `ev_type='X'`]));
    await client.query(`insert into a_magic_data values (1, 'magic', 'x')`);
    expect(await events(client, queue)).toEqual([
      {
        ev_type: 'X',
        ev_data: '{"id":1,"v":"x"}',
        ev_extra1: 'public.a_magic_data',
        ev_extra2: null,
        ev_extra3: null,
        ev_extra4: null,
      },
      {
        ev_type: 'magic',
        ev_data: `(id,v) values ('1','x')`,
        ev_extra1: 'public.a_magic_data',
        ev_extra2: null,
        ev_extra3: 'x!',
        ev_extra4: null,
      },
    ]);
  });

  it('count as ignored columns when ignore= is given', async () => {
    const queue = await newQueue(client);
    await client.query(`create table a_magic_ign (id int primary key, _pgq_ev_type text, v text);
                        insert into a_magic_ign values (1, 'a', 'x')`);
    await client.query(createTrigger('sqltriga', 'a_magic_ign', [queue, 'ignore=v']));
    await client.query(createTrigger('logutriga', 'a_magic_ign', [queue]));
    await client.query(`update a_magic_ign set _pgq_ev_type = 'b'`);
    // logutriga (no ignore=) queues it; sqltriga sees only a magic column change
    expect(await typeAndData(client, queue)).toEqual([['b', 'id=1&v=x']]);
  });
});
