import { describe, expect, it } from 'vitest';
import { bindDstQuery, compileDstQuery } from '../../src/consumers/dst-query.js';
import { isRowEvent, payloadColumns } from '../../src/consumers/payload.js';
import { urldecode } from '../../src/pgq/urlencode.js';

describe('event payload parameters', () => {
  it('urldecode as upstream: NULL without "=", empty after "=", + and %xx decoded', () => {
    expect([...urldecode('a=1&b=&c&d=x+y%26z&e=caf%C3%A9&f=50%')]).toEqual([
      ['a', '1'],
      ['b', ''],
      ['c', null],
      ['d', 'x y&z'],
      ['e', 'café'],
      ['f', '50%'],
    ]);
    expect(urldecode('').size).toBe(0);
  });

  it('JSON object payloads give their fields as text; anything else is urlencoded', () => {
    expect([...payloadColumns('{"id": 3, "ok": true, "n": null, "o": {"a": 1}}')]).toEqual([
      ['id', '3'],
      ['ok', 'true'],
      ['n', null],
      ['o', '{"a":1}'],
    ]);
    expect([...payloadColumns('{broken')]).toEqual([['{broken', null]]);
    expect(payloadColumns(null).size).toBe(0);
  });

  it('row events are I:, U: and D: types only', () => {
    expect(['I:id', 'U:', 'D:a,b', 'I', 'X:id', 'i:id', null].map(isRowEvent)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it('dst_query placeholders become bind parameters; a name used twice is one parameter', () => {
    const q = compileDstQuery("select %(a)s, %(pgq.ev_id)s, %(a)s, 'x%%'");
    expect(q).toEqual({ text: "select $1, $2, $1, 'x%'", names: ['a', 'pgq.ev_id'] });
    const params = new Map<string, string | null>([
      ['a', "it's"],
      ['pgq.ev_id', '7'],
    ]);
    expect(bindDstQuery(q, params, '7')).toEqual(["it's", '7']);
    expect(() => bindDstQuery(compileDstQuery('select %(nope)s'), params, '7')).toThrow(
      'dst_query needs %(nope)s but event 7 has no field "nope" (fields: a, pgq.ev_id)',
    );
    expect(() => compileDstQuery("select 'a%'")).toThrow(/a "%" must start a %\(name\)s/);
    expect(() => compileDstQuery('  ')).toThrow('dst_query is empty');
  });
});
