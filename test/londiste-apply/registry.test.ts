/**
 * The handler registry: the `handler=name(k=v&...)` attribute inside the urlencoded
 * table_attrs (read and written as upstream stores it), the list show-handlers prints, and
 * handlers of the user's own modules (`handler_modules`) applying real events.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandler } from '../../src/londiste/handler.js';
import {
  createTableHandler,
  findHandler,
  formatTableAttrs,
  handlerSpecFromOptions,
  listHandlers,
  loadHandlerModules,
  parseHandlerSpec,
} from '../../src/londiste/handlers/registry.js';
import { urldecode, urlencode } from '../../src/pgq/urlencode.js';
import { useTestDatabase } from '../harness/database.js';
import { applyPending, createQueue, createTablePair } from './helpers.js';

const test = useTestDatabase();
let db: pg.Client;
let dir: string;

beforeAll(async () => {
  db = await test.connect();
  dir = await mkdtemp(path.join(os.tmpdir(), 'londiste-handlers-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the handler attribute', () => {
  it('reads what upstream stores, default londiste without one', () => {
    expect(parseHandlerSpec(null)).toEqual({ name: 'londiste', args: {} });
    expect(parseHandlerSpec('')).toEqual({ name: 'londiste', args: {} });
    expect(parseHandlerSpec('skip_truncate=1')).toEqual({ name: 'londiste', args: {} });
    expect(parseHandlerSpec('handler=londiste%28ignore_truncate%3D1%29')).toEqual({
      name: 'londiste',
      args: { ignore_truncate: '1' },
    });
    expect(
      parseHandlerSpec(
        'handler=dispatch%28table_mode%3Dpart%26period%3Dday%26part_name%3D%25%28parent%29s_x%29&skip_truncate=1',
      ),
    ).toEqual({
      name: 'dispatch',
      args: { table_mode: 'part', period: 'day', part_name: '%(parent)s_x' },
    });
    expect(parseHandlerSpec('handler=bulk')).toEqual({ name: 'bulk', args: {} });
  });

  it('writes it back so it reads the same, other attributes kept', () => {
    const spec = { name: 'dispatch', args: { part_name: '%(parent)s_%(year)s', 'a b': 'x&y=z' } };
    const attrs = formatTableAttrs(spec, 'skip_truncate=1');
    // What upstream's db_urlencode writes for the same (python3-skytools 3.8.1).
    expect(attrs).toBe(
      'handler=dispatch%28part_name%3d%2525%2528parent%2529s_%2525%2528year%2529s%26a%2bb%3dx%2526y%253dz%29&skip_truncate=1',
    );
    expect(parseHandlerSpec(attrs)).toEqual(spec);
    expect(urldecode(attrs).get('skip_truncate')).toBe('1');
    expect(formatTableAttrs({ name: 'londiste', args: {} }, 'handler=bulk&copy_node=n1')).toBe(
      'copy_node=n1',
    );
  });

  it('--handler and --handler-arg words make one spec', () => {
    expect(handlerSpecFromOptions('londiste', ['ignore_truncate=1'])).toEqual({
      name: 'londiste',
      args: { ignore_truncate: '1' },
    });
    expect(handlerSpecFromOptions('bulk(method=1)', ['method=2', 'x=a=b'])).toEqual({
      name: 'bulk',
      args: { method: '2', x: 'a=b' },
    });
    expect(() => handlerSpecFromOptions('londiste', ['novalue'])).toThrow(
      "Invalid handler argument: ['novalue']",
    );
  });

  it('urlencode and urldecode round-trip any text', () => {
    const fields: [string, string | null][] = [
      ['plain', 'abc_.-~'],
      ['spaces and + signs', 'a b+c'],
      ['ünïcödé', '€ %41 & = ;'],
      ['null', null],
      ['empty', ''],
    ];
    expect([...urldecode(urlencode(fields))]).toEqual(fields);
  });

  it('show-handlers lists the built-in handler with its arguments', () => {
    const londiste = listHandlers().find((h) => h.name === 'londiste');
    expect(londiste?.args.map((a) => a.name)).toEqual(['ignore_truncate']);
    expect(findHandler('londiste')).toBe(londiste);
  });
});

// The example of docs/londiste-handlers.md as written, and an export that is no handler.
const handlersDoc = readFileSync(
  fileURLToPath(new URL('../../docs/londiste-handlers.md', import.meta.url)),
  'utf8',
);
const auditModule = `${/```js\n([\s\S]*?)```/.exec(handlersDoc)?.[1] ?? ''}
export const notAHandler = { name: 'x' };
`;

describe('handlers of the user', () => {
  it('a module of handler_modules plugs its handler in by name', async () => {
    expect(auditModule).toContain('export const audit = {');
    await writeFile(path.join(dir, 'audit.mjs'), auditModule);
    expect(await loadHandlerModules(['./audit.mjs'], dir)).toEqual(['audit']);
    expect(listHandlers().map((h) => h.name)).toContain('audit');
    await createQueue(db, 'q_audit');
    const t = await createTablePair(db, 'q_audit', 'audited', 'id int primary key, v text');
    await db.query('create table audit_log (tbl text, ev_type text, ev_data text)');
    const spec = parseHandlerSpec(
      formatTableAttrs({ name: 'audit', args: { target: 'audit_log' } }),
    );
    const handler = createTableHandler(spec, { tableName: t.setName, destTable: t.destName });
    expect(handler.needsTable()).toBe(false);
    await db.query(`insert into ${t.src} values (1, 'a')`);
    await db.query(`delete from ${t.src} where id = 1`);
    await applyPending(db, 'q_audit', new Map<string, TableHandler>([[t.setName, handler]]));
    const { rows } = await db.query('select * from audit_log order by ev_type desc');
    expect(rows).toEqual([
      { tbl: t.setName, ev_type: 'I:id', ev_data: 'id=1&v=a' },
      { tbl: t.setName, ev_type: 'D:id', ev_data: 'id=1&v=a' },
    ]);
    expect(() =>
      createTableHandler(
        { name: 'audit', args: { target: 'x', extra: '1' } },
        { tableName: 't', destTable: 't' },
      ),
    ).toThrow("Invalid handler argument: ['extra']");
  });

  it('a module that fails to load or exports no handler is named in the error', async () => {
    await expect(loadHandlerModules(['./missing.mjs'], dir)).rejects.toThrow(
      expect.objectContaining({
        code: 'BAD_HANDLER_MODULE',
        message: expect.stringMatching(/^handler module \.\/missing\.mjs could not be loaded: /),
      }),
    );
    await writeFile(path.join(dir, 'empty.mjs'), 'export const nothing = 1;\n');
    await expect(loadHandlerModules(['./empty.mjs'], dir)).rejects.toThrow(
      'handler module ./empty.mjs exports no handler (objects with name, description, args, create)',
    );
    await expect(loadHandlerModules(['no-such-package-for-londiste'], dir)).rejects.toThrow(
      /^handler module no-such-package-for-londiste could not be loaded: /,
    );
  });
});
