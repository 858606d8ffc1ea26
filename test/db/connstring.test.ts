import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeConnection, parseConnString, redact } from '../../src/db/connstring.js';
import { SkytoolsError } from '../../src/errors.js';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();

describe('parseConnString', () => {
  it('reads libpq key=value strings as SkyTools INI files write them', () => {
    expect(parseConnString('dbname=sales host=db1 port=6432 user=pgq')).toEqual({
      database: 'sales',
      host: 'db1',
      port: 6432,
      user: 'pgq',
    });
  });

  it('handles quoting, escapes and spaces around =', () => {
    expect(
      parseConnString("dbname = 'my db' password='it\\'s \\\\ secret' application_name=a\\ b"),
    ).toEqual({
      database: 'my db',
      password: "it's \\ secret",
      application_name: 'a b',
    });
  });

  it('reads URLs into the same keywords, query parameters included', () => {
    expect(
      parseConnString(' postgresql://u%40x:p%2Fw@h:5/my%20db?sslmode=disable&keepalives_idle=7 '),
    ).toEqual({
      host: 'h',
      port: 5,
      user: 'u@x',
      password: 'p/w',
      database: 'my db',
      libpq: { sslmode: 'disable', keepalivesIdle: 7 },
    });
    expect(parseConnString('postgres:///d?host=/var/run/postgresql')).toEqual({
      database: 'd',
      host: '/var/run/postgresql',
    });
    expect(parseConnString('postgresql://[::1]:6/d')).toMatchObject({ host: '::1', port: 6 });
    expect(() => parseConnString('postgresql://u@h:5/d?colour=blue')).toThrow(
      /unknown keyword "colour"/,
    );
  });

  it('rejects unknown keywords, bad ports and broken quoting with the reason', () => {
    const cases: [string, RegExp][] = [
      ['dbname=x colour=blue', /unknown keyword "colour"/],
      ['port=fifty', /port "fifty" is not a number/],
      ["dbname='open", /unterminated quoted value for "dbname"/],
      ['just-a-word', /expected key=value/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseConnString(text), text).toThrow(SkytoolsError);
      expect(() => parseConnString(text), text).toThrow(message);
    }
  });

  it('never shows passwords in errors and labels', () => {
    expect(redact("host=x password='a b' user=y")).toBe('host=x password=*** user=y');
    expect(redact('postgresql://u:secret@h/d')).toBe('postgresql://u:***@h/d');
    expect(
      describeConnection({ host: 'h', port: 1, user: 'u', database: 'd', password: 'p' }),
    ).toBe('u@h:1/d');
    try {
      parseConnString('password=hunter2 nonsense=1');
    } catch (error) {
      expect(JSON.stringify((error as SkytoolsError).context)).not.toContain('hunter2');
    }
  });

  it('connects to a real server with a key=value string', async () => {
    const { host, port, user } = db.cluster;
    const client = new pg.Client(
      parseConnString(`host=${host} port=${port} user=${user} dbname='${db.name}'`),
    );
    await client.connect();
    try {
      const { rows } = await client.query('select current_database() as name');
      expect(rows[0].name).toBe(db.name);
    } finally {
      await client.end();
    }
  });
});
