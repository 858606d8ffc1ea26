/**
 * The dispatch family through the real leaf worker while a producer writes on the root, on
 * one root -> leaf chain (the tests build on each other, in order):
 * - `direct` with skip_fields and event_types=I,U, and `bulk_direct` (method 1) with a
 *   renamed column: copied and replayed while the producer writes, row by row;
 * - `daily_event` (keep_latest, direct load): each event in the partition of its day, made
 *   by londiste.create_partition, holding each key's latest row of that day;
 * - `bulk_monthly_field` on a date column, renamed columns, retention 3 months with
 *   ignore_old_events: partitions by the column's month, old ones dropped, events of
 *   partitions past retention dropped;
 * - `dispatch` hourly by batch time, keep_all, with part_template and post_part: every
 *   insert and update kept as a row, in partitions the template made;
 * - `bulk_daily_time`, method 3 (inserts only), a custom part_name and pre_part; then a
 *   truncate empties the parent and its partitions.
 * Bad arguments are refused at add-table with upstream's text, nothing changed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createTableHandler } from '../../src/londiste/handlers/registry.js';
import { urldecode } from '../../src/pgq/urlencode.js';
import { useTestDatabase } from '../harness/database.js';
import { snapshot } from '../londiste-admin/helpers.js';
import { seedRows, startProducer, tableDdl, tableRows } from '../londiste-worker/helpers.js';
import { londiste, ok, poll, rootEvents, states, synced, useChain } from './helpers.js';

const test = useTestDatabase();
const { chain, startWorker } = useChain(test, 'dq', { parallel_copies: '4' });
const copiedTables = ['public.dd', 'public.db'];
const partTables = ['public.dp', 'public.dm', 'public.dk', 'public.dt'];
const all = [...copiedTables, ...partTables];
const dmDdl =
  'create table public.dm (id int primary key, v text, n int not null default 0, ts timestamptz not null default now())';

beforeAll(async () => {
  const { root, leaf } = chain;
  for (const t of ['public.dd', 'public.db', 'public.dp', 'public.dk', 'public.dt']) {
    await root.db.query(tableDdl(t));
  }
  await root.db.query(dmDdl);
  for (const t of ['public.dd', 'public.db', 'public.dp', 'public.dk']) {
    await seedRows(root.db, t, 200);
  }
  // Rows of this month and each of the 7 before it (mid-month: no time zone moves them).
  await root.db.query(`insert into public.dm (id, v, ts)
    select i, md5(i::text), date_trunc('month', now()) - (i % 8) * interval '1 month'
                            + interval '10 days 12 hours'
      from generate_series(1, 64) i`);
  await leaf.db.query(`
    create table public.dd (id int primary key, v text);
    create table public.db (id int primary key, val text, n int not null default 0);
    ${tableDdl('public.dp')};
    create table public.dm (id int primary key, val text, ts timestamptz not null);
    create table public.dm_2020_01 () inherits (public.dm);
    ${tableDdl('public.dk')};
    ${tableDdl('public.dt')};
    create table public.made (part text, period text)`);
});

describe('bad dispatch arguments', () => {
  it('are refused at add-table with upstream text, nothing changed', async () => {
    const { root } = chain;
    const before = await snapshot(root.db);
    const cases: [string[], string][] = [
      [['--handler=dispatch', '--handler-arg=table_mode=x'], "['table_mode=x']"],
      [['--handler=daily_field'], "['part_field']"],
      [['--handler=dispatch', '--handler-arg=period=week'], "['period=week']"],
      [
        ['--handler=hourly_event', '--handler-arg=part_name=%(parent)s_%(minute)s'],
        "['part_name=%(parent)s_%(minute)s']",
      ],
      [
        ['--handler=dispatch', '--handler-arg=part_template=create table %(table)s ()'],
        "['part_template=create table %(table)s ()']",
      ],
      [['--handler=direct', '--handler-arg=foo=1'], "['foo']"],
      [['--handler=bulk_direct', '--handler-arg=method=4'], "['method=4']"],
      [['--handler=dispatch', '--handler-arg=event_types=I,X'], "['event_types=I,X']"],
      [['--handler=dispatch', '--handler-arg=row_mode=latest'], "['row_mode=latest']"],
      [
        ['--handler=daily_batch', '--handler-arg=retention_period=forever'],
        "['retention_period=forever']",
      ],
      [['--handler=direct', '--handler-arg=encoding=klingon'], "['encoding=klingon']"],
      [['--handler=direct', '--handler-arg=fields=a:b:c'], "['fields=a:b:c']"],
      [['--handler=daily_event', '--handler-arg=ignore_old_events=2'], "['ignore_old_events=2']"],
      [['--handler=monthly_events'], 'Unknown handler: monthly_events'],
    ];
    for (const [args, text] of cases) {
      const result = await londiste([root.ini, 'add-table', 'public.dd', ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      const expected = text.startsWith('[') ? `Invalid handler argument: ${text}` : text;
      expect(result.stderr, args.join(' ')).toContain(expected);
    }
    expect(await snapshot(root.db)).toEqual(before);
  });
});

describe('a dispatch table as a copy source', () => {
  it('holds the source rows only when nothing is rewritten', () => {
    const made = (name: string, args: Record<string, string> = {}) =>
      createTableHandler({ name, args }, { tableName: 'public.t', destTable: 'public.t' });
    expect(made('direct').sourceRows?.()).toBe(true);
    expect(made('dispatch', { table_mode: 'direct' }).sourceRows?.()).toBe(true);
    expect(made('bulk_direct').sourceRows?.()).toBe(true);
    expect(made('direct', { skip_fields: 'n' }).sourceRows?.()).toBe(false);
    expect(made('direct', { table: 'public.u' }).sourceRows?.()).toBe(false);
    expect(made('direct', { event_types: 'I' }).sourceRows?.()).toBe(false);
    expect(made('daily_event').sourceRows?.()).toBe(false);
    // Made without the tool's settings (as --find-copy-node does): it can still answer.
    expect(made('obfuscate').sourceRows?.()).toBe(false);
  });
});

describe('root -> leaf with the dispatch family', () => {
  it('adds, copies and replays while the producer writes', { timeout: 240_000 }, async () => {
    const { root, leaf, queue } = chain;
    await ok([root.ini, 'add-table', ...all]);
    await ok([
      leaf.ini,
      'add-table',
      'public.dd',
      '--handler=direct',
      '--handler-arg=skip_fields=n',
      '--handler-arg=event_types=I,U',
      '--handler-arg=encoding=latin1',
    ]);
    await ok([
      leaf.ini,
      'add-table',
      'public.db',
      '--handler=bulk_direct',
      '--handler-arg=method=1',
      '--handler-arg=fields=id,v:val,n',
    ]);
    await ok([leaf.ini, 'add-table', 'public.dp', '--handler=daily_event']);
    await ok([
      leaf.ini,
      'add-table',
      'public.dm',
      '--handler=bulk_monthly_field',
      '--handler-arg=part_field=ts',
      '--handler-arg=fields=id,v:val,ts',
      '--handler-arg=retention_period=3 months',
      '--handler-arg=ignore_old_events=1',
    ]);
    await ok([
      leaf.ini,
      'add-table',
      'public.dk',
      '--handler=dispatch',
      '--handler-arg=period=hour',
      '--handler-arg=row_mode=keep_all',
      '--handler-arg=part_template=create table %(part)s (like %(parent)s)',
      "--handler-arg=post_part=insert into public.made values ('%(part)s', '%(period)s')",
    ]);
    await ok([
      leaf.ini,
      'add-table',
      'public.dt',
      '--handler=bulk_daily_time',
      '--handler-arg=method=3',
      '--handler-arg=event_types=I',
      '--handler-arg=analyze=1',
      '--handler-arg=part_name=%(parent)s_d%(year)s%(month)s%(day)s',
      "--handler-arg=pre_part=insert into public.made values ('%(part)s', 'pre')",
    ]);
    // The copies run while the producer writes the directly copied tables; the
    // partitioned ones get their writes once they are ok, so every event of theirs replays.
    let writing = copiedTables;
    const producer = startProducer(root.db, () => writing, 1);
    startWorker();
    try {
      await poll(
        () => states(leaf.db, queue),
        (s) => all.every((t) => s[t] === 'ok'),
        90_000,
        (s) => `tables not ok: ${JSON.stringify(s)}\n${chain.why()}`,
      );
      writing = all;
      const ops = producer.ops;
      await poll(
        async () => producer.ops,
        (n) => n >= ops + 500,
        60_000,
      );
      await producer.stop();
      // Each dm row of the last 8 months changed once, two of them deleted after.
      await root.db.query(`update public.dm set v = 'touched' where id <= 64;
        delete from public.dm where id in (1, 2);
        insert into public.dd (id, v) values (-1, 'grüße € ok')`);
      await synced(chain, all);
      if (process.env.SHOW_LOG) console.log(chain.why());
    } finally {
      await producer.stop();
    }
  });

  it('direct: rows without the skipped column, deletes not applied', async () => {
    const { root, leaf } = chain;
    // encoding=latin1: what LATIN1 cannot hold is replaced.
    expect((await leaf.db.query('select v from public.dd where id = -1')).rows).toEqual([
      { v: 'grüße ? ok' },
    ]);
    const rootRows = (await root.db.query('select id, v from public.dd where id > 0 order by id'))
      .rows;
    const leafRows = (await tableRows(leaf.db, 'public.dd')).filter((r) => r.id > 0);
    const byId = new Map(leafRows.map((r) => [r.id, r]));
    expect(rootRows.length).toBeGreaterThan(200);
    for (const row of rootRows) expect(byId.get(row.id)).toEqual(row);
    // Keys the root deleted (after the copy) stay on the leaf.
    const deleted = (await rootEvents(chain, 'public.dd'))
      .filter((e) => e.ev_type.startsWith('D:'))
      .map((e) => Number(urldecode(e.ev_data).get('id')));
    const extra = leafRows.filter((r) => !rootRows.some((x) => x.id === r.id)).map((r) => r.id);
    expect(extra.every((id) => deleted.includes(id))).toBe(true);
  });

  it('bulk_direct: the root rows with the renamed column', async () => {
    const { root, leaf } = chain;
    const rootRows = (await root.db.query('select id, v as val, n from public.db order by id'))
      .rows;
    expect(rootRows.length).toBeGreaterThan(200);
    expect(await tableRows(leaf.db, 'public.db')).toEqual(rootRows);
  });

  it('daily_event: each key latest row in the partition of its event day', async () => {
    const { root, leaf } = chain;
    // The copy went into the parent.
    const seeded = 'select * from public.dp where id <= 200 order by id';
    const copied = (await leaf.db.query(seeded.replace('from', 'from only'))).rows;
    expect(copied).toEqual(
      (await root.db.query('select id, md5(id::text) as v, 0 as n from generate_series(1, 200) id'))
        .rows,
    );
    const events = await rootEvents(chain, 'public.dp');
    expect(events.length).toBeGreaterThan(50);
    const days = await dayOf(
      leaf.db,
      events.map((e) => e.ev_time),
      'YYYY_MM_DD',
    );
    const expected = keepLatest(
      events,
      (e) => `dp_${days.get(e.ev_time)}`,
      (row) => ({ id: Number(row.get('id')), v: row.get('v'), n: Number(row.get('n')) }),
    );
    expect(await partitionsOf(leaf.db, 'public.dp')).toEqual([...expected.keys()].sort());
    for (const [part, rows] of expected) {
      expect(await tableRows(leaf.db, `public.${part}`), part).toEqual(rows);
    }
    // Made by londiste.create_partition: the parent's key and columns, inherited.
    const part = [...expected.keys()][0] as string;
    const { rows: pk } = await leaf.db.query(
      `select pg_get_constraintdef(oid) as def from pg_constraint
        where conrelid = $1::regclass and contype = 'p'`,
      [`public.${part}`],
    );
    expect(pk).toEqual([{ def: 'PRIMARY KEY (id)' }]);
  });

  it('bulk_monthly_field: partitions by the date column, retention applied', async () => {
    const { leaf } = chain;
    const events = await rootEvents(chain, 'public.dm');
    const times = events.map((e) => urldecode(e.ev_data).get('ts') as string);
    const months = await dayOf(leaf.db, times, 'YYYY_MM');
    const { rows: old } = await leaf.db.query(
      `select m, londiste.is_obsolete_partition('public.dm_' || m, '3 months', 'month') as old
         from unnest($1::text[]) m`,
      [[...new Set(months.values())]],
    );
    const obsolete = new Set(old.filter((r) => r.old).map((r) => r.m));
    expect(obsolete.size).toBeGreaterThanOrEqual(3);
    const kept = events.filter(
      (e) => !obsolete.has(months.get(urldecode(e.ev_data).get('ts') as string)),
    );
    const expected = keepLatest(
      kept,
      (e) => `dm_${months.get(urldecode(e.ev_data).get('ts') as string)}`,
      (row) => ({ id: Number(row.get('id')), val: row.get('v'), ts: row.get('ts') }),
    );
    expect(expected.size).toBeGreaterThanOrEqual(3);
    // dm_2020_01 was past retention: dropped when the first new partition was made.
    expect(await partitionsOf(leaf.db, 'public.dm')).toEqual([...expected.keys()].sort());
    for (const [part, rows] of expected) {
      const { rows: got } = await leaf.db.query(
        `select id, val, ts::text as ts from public.${part} order by id`,
      );
      expect(got, part).toEqual(rows);
    }
    // The partitions keep the column's month: create_partition's CHECK says so too.
    const { rows: checks } = await leaf.db.query(
      `select count(*)::int as n from pg_constraint c join pg_inherits i on i.inhrelid = c.conrelid
        where i.inhparent = 'public.dm'::regclass and c.contype = 'c'`,
    );
    expect(checks[0].n).toBe(expected.size);
  });

  it('dispatch hourly keep_all: every insert and update a row, template partitions', async () => {
    const { leaf } = chain;
    const events = (await rootEvents(chain, 'public.dk')).filter((e) => !e.ev_type.startsWith('D'));
    expect(events.length).toBeGreaterThan(50);
    const parts = await partitionsOf(leaf.db, 'public.dk');
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) expect(part).toMatch(/^dk_\d{4}_\d{2}_\d{2}_\d{2}$/);
    const { rows: made } = await leaf.db.query(
      "select part, period from public.made where period = 'hour' order by 1",
    );
    expect(made).toEqual(parts.map((p) => ({ part: `public.${p}`, period: 'hour' })));
    // The template's partitions: no key, not inherited ... as the template said.
    const { rows } = await leaf.db.query(
      `select id, v, n from (${parts.map((p) => `select * from public.${p}`).join(' union all ')}) x
        order by id, n, v`,
    );
    const want = events
      .map((e) => {
        const row = urldecode(e.ev_data);
        return { id: Number(row.get('id')), v: row.get('v'), n: Number(row.get('n')) };
      })
      .sort((a, b) => a.id - b.id || a.n - b.n || String(a.v).localeCompare(String(b.v)));
    expect(rows.map((r) => ({ ...r }))).toEqual(want);
  });
});

describe('bulk_daily_time with method 3', () => {
  it('loads the inserts into the partition of the day they were applied', async () => {
    const { leaf } = chain;
    const inserts = (await rootEvents(chain, 'public.dt')).filter((e) =>
      e.ev_type.startsWith('I:'),
    );
    expect(inserts.length).toBeGreaterThan(20);
    const parts = await partitionsOf(leaf.db, 'public.dt');
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) expect(part).toMatch(/^dt_d\d{8}$/);
    const { rows: made } = await leaf.db.query(
      "select part from public.made where period = 'pre' order by 1",
    );
    expect(made.map((r) => r.part)).toEqual(parts.map((p) => `public.${p}`));
    const want = inserts
      .map((e) => {
        const row = urldecode(e.ev_data);
        return { id: Number(row.get('id')), v: row.get('v'), n: Number(row.get('n')) };
      })
      .sort((a, b) => a.id - b.id);
    const { rows } = await leaf.db.query(
      "select id, v, n from public.dt d where d.tableoid <> 'public.dt'::regclass order by id",
    );
    expect(rows).toEqual(want);
  });

  it('a truncate empties the table and its partitions', async () => {
    const { root, leaf } = chain;
    await root.db.query('truncate public.dt');
    await synced(chain, all);
    expect((await leaf.db.query('select count(*)::int as n from public.dt')).rows).toEqual([
      { n: 0 },
    ]);
    expect((await partitionsOf(leaf.db, 'public.dt')).length).toBeGreaterThan(0);
  });
});

type Row = Record<string, unknown>;
type RootEvent = { ev_type: string; ev_data: string; ev_time: string };

/** Each key's latest row per partition, as keep_latest leaves it (deletes remove it). */
function keepLatest(
  events: RootEvent[],
  partOf: (event: RootEvent) => string,
  toRow: (row: Map<string, string | null>) => Row,
): Map<string, Row[]> {
  const parts = new Map<string, Map<number, Row>>();
  for (const event of events) {
    const part = partOf(event);
    const rows = parts.get(part) ?? new Map<number, Row>();
    parts.set(part, rows);
    const row = urldecode(event.ev_data);
    const id = Number(row.get('id'));
    if (event.ev_type.startsWith('D:')) rows.delete(id);
    else rows.set(id, toRow(row));
  }
  return new Map(
    [...parts].map(([part, rows]) => [
      part,
      [...rows.values()].sort((a, b) => (a.id as number) - (b.id as number)),
    ]),
  );
}

/** The period of each time text as the leaf's session cuts it. */
async function dayOf(
  db: import('pg').ClientBase,
  times: string[],
  format: string,
): Promise<Map<string, string>> {
  const { rows } = await db.query(
    'select t, to_char(t::timestamptz, $2) as d from unnest($1::text[]) t',
    [[...new Set(times)], format],
  );
  return new Map(rows.map((r) => [r.t, r.d]));
}

async function partitionsOf(db: import('pg').ClientBase, parent: string): Promise<string[]> {
  const { rows } = await db.query(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relname like $1 and c.relkind = 'r' order by 1`,
    [`${parent.slice('public.'.length)}\\_%`],
  );
  return rows.map((r) => r.relname);
}
