/**
 * qadmin's commands on a real database, through the same entry point the console and -c
 * use (runStatement): what each prints, what it changed, and one clear error for unknown
 * names and bad syntax, with nothing changed.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkytoolsError } from '../../src/errors.js';
import { QadminSession, runStatement } from '../../src/qadmin/index.js';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
let session: QadminSession;

beforeAll(async () => {
  session = new QadminSession({ ...db.config(), application_name: undefined });
  await session.connect();
});
afterAll(() => session.close());

const run = async (statement: string) => (await runStatement(session, statement)).text;
const fails = (statement: string) =>
  runStatement(session, statement).then(
    () => {
      throw new Error(`"${statement}" did not fail`);
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(SkytoolsError);
      return (error as SkytoolsError).message;
    },
  );
const queueRow = async (queue: string) =>
  (await db.query('select * from pgq.get_queue_info($1)', [queue])).rows[0];

describe('queues', () => {
  it('creates, shows, alters and drops a queue', async () => {
    expect(await run('create queue qa_orders')).toBe('queue "qa_orders" created');
    expect(await run('CREATE QUEUE qa_orders')).toBe('queue "qa_orders" already exists');
    const shown = await run('show queue qa_orders');
    const lines = shown.split('\n');
    expect(lines[0]?.trim()).toBe('Queue "qa_orders"');
    expect(lines[1]).toMatch(/^ queue_name \| tables \| rotation \|/);
    expect(lines[2]).toMatch(/^-+\+-+/);
    expect(lines[3]).toMatch(/^ qa_orders +\| 0\/3 +\|/);
    expect(lines[4]).toBe('(1 row)');

    expect(
      await run(
        "alter queue qa_orders set max_count=10, idle_period='30 seconds', max_lag = '2 s', paused=1",
      ),
    ).toBe('queue "qa_orders" altered');
    const row = await queueRow('qa_orders');
    expect(row?.queue_ticker_max_count).toBe(10);
    expect(row?.queue_ticker_idle_period).toMatchObject({ seconds: 30 });
    expect(row?.queue_ticker_max_lag).toMatchObject({ seconds: 2 });
    expect(row?.queue_ticker_paused).toBe(true);

    await run('create queue qa_other');
    expect(await run('alter queue * set paused=0')).toContain('queue "qa_other" altered');
    expect((await queueRow('qa_orders'))?.queue_ticker_paused).toBe(false);
    expect((await queueRow('qa_other'))?.queue_ticker_paused).toBe(false);

    const all = await run('show queue *');
    expect(all).toMatch(/ qa_orders +\|/);
    expect(all).toMatch(/ qa_other +\|/);
    expect(await run('drop queue qa_other')).toBe('queue "qa_other" dropped');
    expect(await queueRow('qa_other')).toBeUndefined();
  });

  it('names an unknown queue and changes nothing', async () => {
    expect(await fails('show queue qa_nope')).toBe('unknown queue: "qa_nope"');
    expect(await fails('drop queue qa_nope')).toBe('unknown queue: "qa_nope"');
    expect(await fails('alter queue qa_nope set max_count=5')).toBe('unknown queue: "qa_nope"');
    expect(await fails('register consumer c on qa_nope')).toBe('unknown queue: "qa_nope"');
  });

  it('refuses a bad alter before changing anything, also with * (one transaction)', async () => {
    await run('create queue qa_alter');
    expect(await fails('alter queue qa_alter set max_count=7, colour=red')).toBe(
      'unknown queue setting "colour"; known: idle_period, max_count, max_lag, paused, rotation_period, external_ticker',
    );
    expect(await fails("alter queue qa_alter set max_count=7, max_lag='soon'")).toMatch(
      /invalid input syntax for type interval: "soon"/,
    );
    expect((await queueRow('qa_alter'))?.queue_ticker_max_count).toBe(500);
    expect(await fails('alter queue qa_alter set max_count')).toBe(
      'syntax error in alter queue: expected = at end of command',
    );
  });

  it('takes hostile names as they are, quoted either way', async () => {
    const name = `q "quoted" 'x'; drop table pgq.queue; ü`;
    const quoted = `"${name.replaceAll('"', '""')}"`;
    expect(await run(`create queue ${quoted}`)).toBe(`queue ${JSON.stringify(name)} created`);
    expect(await queueRow(name)).toBeDefined();
    expect(await run(`register consumer 'Mixed Case' on ${quoted}`)).toBe(
      `registered consumer "Mixed Case" on queue ${JSON.stringify(name)}`,
    );
    expect(await run(`show consumer "Mixed Case" on ${quoted}`)).toContain('Mixed Case');
    expect(await run(`unregister consumer * from ${quoted}`)).toContain('"Mixed Case"');
    expect(await run(`drop queue ${quoted}`)).toBe(`queue ${JSON.stringify(name)} dropped`);
    expect((await db.query('select count(*)::int as n from pgq.queue')).rows[0]?.n).toBeGreaterThan(
      0,
    );
  });
});

describe('consumers and batches', () => {
  beforeAll(async () => {
    await run('create queue qa_c');
    await db.query("select pgq.insert_event('qa_c', 't', 'd')");
    await db.query("select pgq.ticker('qa_c')");
  });

  it('registers at the latest tick, at a tick, or where another consumer is', async () => {
    expect(await run('register consumer first on qa_c')).toBe(
      'registered consumer "first" on queue "qa_c"',
    );
    expect(await run('register consumer first on qa_c')).toBe(
      'consumer "first" on queue "qa_c" was already registered',
    );
    expect(await run('register consumer at_one on qa_c at 1')).toBe(
      'registered consumer "at_one" on queue "qa_c" at tick 1',
    );
    const firstTick = (
      await db.query("select last_tick from pgq.get_consumer_info('qa_c', 'first')")
    ).rows[0]?.last_tick;
    expect(await run('register consumer copied on qa_c copy first')).toBe(
      `registered consumer "copied" on queue "qa_c" at tick ${firstTick}`,
    );
    expect(await fails('register consumer bad on qa_c copy nobody')).toBe(
      'unknown consumer: "nobody" on queue "qa_c"',
    );
    expect(await fails('register consumer bad on qa_c at 99999')).toMatch(/tick not found: 99999/);
    const names = (
      await db.query("select consumer_name from pgq.get_consumer_info('qa_c') order by 1")
    ).rows.map((r) => r.consumer_name);
    expect(names).toEqual(['at_one', 'copied', 'first']);
  });

  it('shows consumers, and a batch by id or by consumer', async () => {
    const table = await run('show consumer * on qa_c');
    expect(table.split('\n')[0]?.trim()).toBe('Consumers on queue "qa_c"');
    expect(table).toContain('(3 rows)');
    expect(await run('show batch at_one on qa_c')).toBe(
      'consumer "at_one" on queue "qa_c" has no open batch',
    );
    const batch = (await db.query("select pgq.next_batch('qa_c', 'at_one') as id")).rows[0]?.id;
    const byConsumer = await run('show batch at_one on qa_c');
    const byId = await run(`show batch ${batch}`);
    // The same batch both ways (the lag column moves on between the two).
    const row = new RegExp(
      `^ +${batch} \\| qa_c +\\| at_one +\\| [^|]+\\| [^|]+\\| +1 \\| +2 \\|`,
      'm',
    );
    expect(byConsumer).toMatch(row);
    expect(byId).toMatch(new RegExp(`^ +${batch} \\| qa_c +\\| at_one +\\|`, 'm'));
    expect(await fails('show batch 987654')).toBe('unknown batch: 987654 (not open)');
    expect(await fails('show consumer ghost on qa_c')).toBe(
      'unknown consumer: "ghost" on queue "qa_c"',
    );
  });

  it('uses the current queue when none is named, and says when there is none', async () => {
    expect(await fails('register consumer x')).toBe(
      'no queue given: name one (on QUEUE) or choose one with "connect queue=QUEUE;" or -Q QUEUE',
    );
    expect(await run('connect queue=qa_c')).toMatch(/^connected to .*, queue "qa_c"$/);
    expect(await run('show consumer copied')).toContain('Consumer "copied" on queue "qa_c"');
    expect(await run('unregister consumer copied')).toBe(
      'unregistered consumer "copied" from queue "qa_c"',
    );
    expect(await fails('unregister consumer copied')).toBe(
      'unknown consumer: "copied" on queue "qa_c"',
    );
    expect(await fails('connect queue=qa_none')).toBe('unknown queue: "qa_none"');
    expect(await fails('connect colour=blue')).toBe(
      'unknown connect keyword "colour"; known: dbname, host, port, user, password, queue, node',
    );
    expect(session.queue).toBe('qa_c');
    session.queue = null;
  });

  it('registers and unregisters subconsumers of a cooperative consumer', async () => {
    expect(await run('register subconsumer s1 for coop on qa_c')).toBe(
      'registered subconsumer "s1" for consumer "coop" on queue "qa_c"',
    );
    await run('register subconsumer s2 for coop on qa_c');
    await db.query("select pgq.insert_event('qa_c', 't', 'd')");
    await db.query("select pgq.force_tick('qa_c')");
    await db.query("select pgq.ticker('qa_c')");
    const open = await db.query("select pgq_coop.next_batch('qa_c', 'coop', 's2') as id");
    expect(open.rows[0]?.id).not.toBeNull();
    expect(await fails('unregister subconsumer s2 for coop from qa_c')).toMatch(
      /subconsumer has active batch/,
    );
    expect(await run('unregister subconsumer s2 for coop from qa_c close batch')).toBe(
      'unregistered subconsumer "s2" for consumer "coop" from queue "qa_c"',
    );
    expect(await fails('unregister subconsumer s9 for coop from qa_c')).toBe(
      'unknown subconsumer: "s9" for consumer "coop" on queue "qa_c"',
    );
    expect(await run('unregister subconsumer * for coop from qa_c')).toContain('"s1"');
    const left = (
      await db.query(
        "select consumer_name from pgq.get_consumer_info('qa_c') where consumer_name like 'coop.%'",
      )
    ).rows;
    expect(left).toEqual([]);
  });
});

describe('nodes, tables, londiste', () => {
  beforeAll(async () => {
    await db.query("select * from pgq_node.register_location('qa_set', 'n1', 'dbname=x', false)");
    await db.query("select * from pgq_node.register_location('qa_set', 'n2', 'dbname=y', false)");
    await db.query(
      "select * from pgq_node.create_node('qa_set', 'root', 'n1', 'w1', null, null, null)",
    );
    await db.query(
      'create table public."Items" (id serial primary key, name text not null default \'x\', qty int check (qty > 0)); create index items_name on public."Items"(name); create sequence public.qa_seq increment by 5 start with 10',
    );
  });

  it('shows the nodes of a cascade, the local one with its type', async () => {
    const table = await run('show node * on qa_set');
    expect(table).toMatch(/^ qa_set +\| n1 +\| root +\| f +\| dbname=x$/m);
    expect(table).toMatch(/^ qa_set +\| n2 +\| +\| f +\| dbname=y$/m);
    expect(await run('show node n2')).toContain('(1 row)');
    expect(await fails('show node n7 on qa_set')).toBe('unknown node: "n7" on queue "qa_set"');
    expect(await fails('show node on qa_c')).toMatch(/syntax error at "qa_c"|unknown node/);
  });

  it('connects to a node by its registered location, keeping what the location leaves out', async () => {
    await db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      'qa_set',
      'n3',
      `dbname=${db.name}`,
    ]);
    const { user, host, port } = db.cluster;
    expect(await run('connect queue=qa_set node=n3')).toBe(
      `connected to ${user}@${host}:${port}/${db.name}, queue "qa_set"`,
    );
    expect(await fails('connect node=n9')).toBe('unknown node: "n9" on queue "qa_set"');
    session.queue = null;
    expect(await fails('connect node=n3')).toBe('connect node=... needs a queue: add queue=QUEUE');
  });

  it('prints the DDL of a table and a sequence, case kept', async () => {
    const ddl = await run('show table public.Items');
    expect(ddl).toContain('CREATE TABLE public."Items" (');
    expect(ddl).toContain("    name text DEFAULT 'x'::text NOT NULL");
    expect(ddl).toMatch(/ADD CONSTRAINT "Items_pkey" PRIMARY KEY \(id\);/);
    expect(ddl).toMatch(/CHECK \(\(qty > 0\)\)/);
    expect(ddl).toContain('CREATE INDEX items_name ON public."Items" USING btree (name);');
    expect(await run('show sequence qa_seq')).toBe(
      'CREATE SEQUENCE public.qa_seq AS bigint INCREMENT BY 5 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 10 CACHE 1 NO CYCLE;\n',
    );
    expect(await fails('show table public.items')).toBe('unknown table: "public.items"');
    expect(await fails('show sequence nope')).toBe('unknown sequence: "nope"');
  });

  it('adds, lists and removes londiste tables and sequences on the root', async () => {
    await run('connect queue=qa_set');
    try {
      expect(await run('londiste missing')).toMatch(/ r +\| public\.Items/);
      expect(await run("londiste add table public.Items with skip_truncate, tgflags='IU'")).toBe(
        'Table added: public.Items',
      );
      const tables = await run('londiste tables');
      expect(tables).toMatch(/ public\.Items +\| t +\| ok +\|/);
      const triggers = await db.query(
        `select tgname from pg_trigger where tgrelid = 'public."Items"'::regclass and not tgisinternal`,
      );
      expect(triggers.rows.length).toBeGreaterThan(0);
      expect(await run('londiste add sequence public.qa_seq')).toMatch(/qa_seq/);
      expect(await run('londiste seqs')).toContain('public.qa_seq');
      expect(await fails('londiste add table public.nosuch')).toMatch(/public\.nosuch/);
      expect(await fails('londiste add table public.Items with colour')).toMatch(
        /^unknown add table option "colour"/,
      );
      expect(await run('londiste remove table public.Items')).toMatch(/public\.Items/);
      expect(await run('londiste remove sequence public.qa_seq')).toMatch(/qa_seq/);
    } finally {
      session.queue = null;
    }
  });
});

describe('the rest', () => {
  it('reports a lost connection in one line, and "connect;" reconnects', async () => {
    const pid = (await run('select pg_backend_pid() as pid')).split('\n')[2]?.trim();
    await db.query('select pg_terminate_backend($1::int)', [pid]);
    expect(await fails('show queue *')).toMatch(/terminat|Connection|closed/i);
    expect(await run('connect')).toMatch(/^connected to /);
    expect(await run('show queue *')).toMatch(/\(\d+ rows?\)/);
  });

  it('installs a schema and the ones it needs into an empty database', async () => {
    const empty = await db.createDatabase('empty');
    const other = new QadminSession(db.config({ database: empty }));
    await other.connect();
    try {
      expect(await runStatement(other, 'show queue').catch((e: Error) => e.message)).toMatch(
        /schema "pgq" does not exist|function pgq\.get_queue_info\(\) does not exist/,
      );
      const installed = (await runStatement(other, 'install pgq_coop')).text.split('\n');
      expect(installed).toEqual([
        expect.stringMatching(/^installed pgq /),
        expect.stringMatching(/^installed pgq_coop /),
      ]);
      expect((await runStatement(other, 'install pgq_coop')).text).toMatch(
        /^pgq_coop .* already installed$/,
      );
      expect((await runStatement(other, 'create queue after_install')).text).toBe(
        'queue "after_install" created',
      );
    } finally {
      await other.close();
    }
  });

  it('runs a select and prints it like psql', async () => {
    expect(await run("select 1 as n, 'a b' as t, null as z union all select 22, 'c', 'y'")).toBe(
      [' n  |  t  | z', '----+-----+---', '  1 | a b |', ' 22 | c   | y', '(2 rows)', ''].join(
        '\n',
      ),
    );
  });

  it('shows versions of the installed schemas', async () => {
    const text = await run('show version');
    expect(text).toMatch(/^qadmin version \d/);
    expect(text).toMatch(/^ pgq +\| 3\.5 +\| skytools /m);
    expect(text).toMatch(/^ londiste +\| 3\.8 +\|/m);
  });

  it('says what is wrong with a statement it cannot read', async () => {
    expect(await fails('frobnicate queue x')).toBe(
      'unknown command "frobnicate"; "show help;" lists the commands',
    );
    expect(await fails('show')).toBe(
      'incomplete command "show": expected queue, consumer, batch, node, table, sequence, version or help',
    );
    expect(await fails('register consumer c on')).toBe(
      'incomplete command "register consumer c on": expected a queue name',
    );
    expect(await fails('register consumer c onn q')).toBe(
      'syntax error at "onn": expected on, at or copy',
    );
    expect(await fails('show queue a b')).toBe('syntax error at "b": the command ends before it');
    expect(await fails("show queue 'open")).toMatch(/^syntax error: unterminated quoted string/);
    expect(await fails('takeover n1')).toMatch(/use setadm/);
    expect(await run('show help')).toContain(
      'register consumer C [on Q] [at TICK | copy OTHER_CONSUMER];',
    );
    expect((await runStatement(session, 'exit')).exit).toBe(true);
  });
});

/**
 * The same statements on upstream's PgQ (Debian's C extension, on the PostgreSQL 15 leg) and
 * on ours give the same output: qadmin speaks only PgQ's SQL API.
 */
describe('on upstream PgQ', () => {
  const enabled =
    db.cluster.pgMajor === 15 && existsSync('/usr/share/postgresql/15/extension/pgq_node.control');
  it.runIf(enabled)('prints what it prints on ours', async () => {
    const upstreamDb = await db.createDatabase('upstream');
    const ourDb = await db.createDatabase('ours', { template: db.cluster.templateDatabase });
    const setup = await db.connect({ database: upstreamDb });
    await setup.query('create extension pgq_node cascade');
    await setup.end();
    const statements = [
      'create queue up_q',
      "alter queue up_q set max_count = 42, max_lag = '7 seconds', paused = 1",
      'register consumer a on up_q',
      'register consumer b on up_q copy a',
      'register consumer a on up_q',
      "select queue_name, queue_ticker_max_count, queue_ticker_max_lag, queue_ticker_paused from pgq.get_queue_info('up_q')",
      "select queue_name, consumer_name, last_tick, current_batch from pgq.get_consumer_info('up_q')",
      'unregister consumer * from up_q',
      'drop queue up_q',
    ];
    const outputs = async (database: string) => {
      const other = new QadminSession(db.config({ database }));
      await other.connect();
      try {
        const texts: string[] = [];
        for (const statement of statements) texts.push((await runStatement(other, statement)).text);
        texts.push(
          await runStatement(other, 'show queue nope').then(
            (output) => output.text,
            (error: Error) => error.message,
          ),
        );
        texts.push((await runStatement(other, 'show version')).text.replace(/^server: .*$/m, ''));
        return texts;
      } finally {
        await other.close();
      }
    };
    const upstream = await outputs(upstreamDb);
    const ours = await outputs(ourDb);
    expect(upstream.slice(0, -1)).toEqual(ours.slice(0, -1));
    expect(upstream.at(-1)).toMatch(/^ pgq +\| 3\.5[.\d]* +\| upstream$/m);
    expect(ours.at(-1)).toMatch(/^ pgq +\| 3\.5 +\| skytools /m);
  });
});
