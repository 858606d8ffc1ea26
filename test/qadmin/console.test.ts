/**
 * The interactive console: Tab completion of keywords and of queue, consumer and table names
 * read from the database, the continuation of a statement over several lines, history in
 * the history file, and going on after an error.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { complete, QadminSession, runConsole } from '../../src/qadmin/index.js';
import { useTestDatabase } from '../harness/database.js';
import { until } from '../harness/until.js';

const db = useTestDatabase();
let session: QadminSession;
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-qadmin-console-'));

beforeAll(async () => {
  session = new QadminSession(db.config());
  await session.connect();
  await db.query(
    "select pgq.create_queue('orders'), pgq.create_queue('order lines'), pgq.create_queue('audit')",
  );
  await db.query(
    "select pgq.register_consumer('orders', 'mailer'), pgq.register_consumer('orders', 'billing')",
  );
  await db.query("select pgq.register_consumer('audit', 'archiver')");
  await db.query('create table public.shipments (id int primary key)');
});
afterAll(async () => {
  await session.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Tab completion', () => {
  it('completes keywords', async () => {
    expect(await complete(session, 'sh')).toEqual([['show'], 'sh']);
    expect(await complete(session, 'show c')).toEqual([['consumer'], 'c']);
    expect((await complete(session, 'register '))[0]).toEqual(['consumer', 'subconsumer']);
    expect(await complete(session, 'show queue orders; dr')).toEqual([['drop'], 'dr']);
  });

  it('completes queue names from the database, quoting those that need it', async () => {
    expect(await complete(session, 'show queue o')).toEqual([['orders'], 'o']);
    expect((await complete(session, 'show queue '))[0]).toEqual([
      '"order lines"',
      '*',
      'audit',
      'orders',
    ]);
    expect(await complete(session, 'drop queue "ord')).toEqual([['"order lines"'], '"ord']);
  });

  it('completes consumer names of the queue named in the statement, and table names', async () => {
    expect((await complete(session, 'show consumer '))[0]).toEqual([
      '*',
      'archiver',
      'billing',
      'mailer',
    ]);
    expect((await complete(session, 'unregister consumer m'))[0]).toEqual(['mailer']);
    expect((await complete(session, 'show consumer mailer on '))[0]).toContain('orders');
    expect((await complete(session, 'show table public.sh'))[0]).toEqual(['public.shipments']);
    expect((await complete(session, 'register consumer x on orders '))[0]).toEqual(['at', 'copy']);
  });
});

describe('the console', () => {
  it('completes on Tab, joins lines until ";", keeps history and goes on after an error', async () => {
    const input = new PassThrough() as PassThrough & { isTTY?: boolean };
    input.isTTY = true;
    const output = new PassThrough();
    const error = new PassThrough();
    let out = '';
    let err = '';
    output.on('data', (chunk) => (out += chunk));
    error.on('data', (chunk) => (err += chunk));
    const historyFile = path.join(dir, 'history');
    const done = runConsole(session, { io: { input, output, error }, historyFile });
    // Each step waits for what the last one printed, as a user at the terminal would.
    input.write('show queue aud\t');
    await until(
      'completion of the queue name',
      async () => out,
      (text) => text.includes('show queue audit'),
    );
    input.write(';\r');
    await until(
      'the queue table',
      async () => out,
      (text) => text.includes('(1 row)'),
    );
    input.write('frob;\r');
    await until(
      'the error line',
      async () => err,
      (text) => text.includes('unknown command'),
    );
    input.write('show consumer\r');
    await until(
      'the continuation prompt',
      async () => out,
      (text) => text.includes(`${db.name}-> `),
    );
    input.write('  archiver on au\t');
    await until(
      'completion across lines',
      async () => out,
      (text) => text.includes('archiver on audit'),
    );
    input.write(';\r');
    await until(
      'the consumer table',
      async () => out,
      (text) => /^ audit +\| archiver/m.test(text),
    );
    input.write('exit;\r');
    expect(await done).toBe(0);
    expect(err).toBe('ERROR: unknown command "frob"; "show help;" lists the commands\n');
    expect(readFileSync(historyFile, 'utf8')).toBe(
      'show queue audit;\nfrob;\nshow consumer\n  archiver on audit;\nexit;\n',
    );
  });
});
