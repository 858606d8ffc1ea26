import { describe, expect, it } from 'vitest';
import { quoteIdent, quoteLiteral, quoteQualified } from '../../src/db/quote.js';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();

const hostileNames = [
  'plain',
  'MixedCase',
  'with space',
  'dot.ted',
  'quo"te',
  "apos'trophe",
  'back\\slash',
  'ünïcödé_名前',
  'select',
  'user',
  '1starts_with_digit',
  'semi;colon -- comment',
  'x"; drop table victim; --',
];

describe('quoteIdent and quoteLiteral', () => {
  it('quote like the server does', async () => {
    for (const name of hostileNames) {
      const { rows } = await db.query<{ ident: string; literal: string }>(
        'select quote_ident($1) as ident, quote_literal($1) as literal',
        [name],
      );
      expect(quoteIdent(name), name).toBe(rows[0]?.ident);
      expect(quoteLiteral(name), name).toBe(rows[0]?.literal);
    }
  });

  it('round-trip hostile names through real DDL and leave other tables alone', async () => {
    await db.query('create table victim (id int)');
    for (const name of hostileNames) {
      await db.query(`create table ${quoteIdent(name)} (${quoteIdent(name)} text)`);
      await db.query(`insert into ${quoteIdent(name)} values (${quoteLiteral(name)})`);
      const { rows } = await db.query(`select * from ${quoteQualified('public', name)}`);
      expect(rows).toEqual([{ [name]: name }]);
    }
    const { rows } = await db.query('select count(*)::int as n from victim');
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('renders NULL and rejects NUL bytes', () => {
    expect(quoteLiteral(null)).toBe('NULL');
    expect(() => quoteIdent('a\0b')).toThrow(/NUL byte/);
    expect(() => quoteLiteral('a\0b')).toThrow(/NUL byte/);
  });
});
