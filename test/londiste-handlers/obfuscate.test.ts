/**
 * The obfuscate handler through the real leaf worker while a producer writes on the root:
 * the table is copied and replayed with each column kept, dropped, turned into a boolean or
 * hashed by the rules of obfuscator_map (a JSON column by a nested map), keyed with
 * obfuscator_key; the hashed key column stays a key (updates and deletes find their rows).
 * The hashes are keyed BLAKE2s: checked against vectors of Python's hashlib. Bad arguments,
 * a table the map lacks and a bad rule are refused at add-table.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTableRules } from '../../src/londiste/handlers/obfuscate/map.js';
import { Obfuscator } from '../../src/londiste/handlers/obfuscate/rules.js';
import { useTestDatabase } from '../harness/database.js';
import { snapshot } from '../londiste-admin/helpers.js';
import { startProducer } from '../londiste-worker/helpers.js';
import { londiste, ok, poll, states, synced, useChain } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'obfuscate-'));
const mapFile = path.join(dir, 'rules.yaml');
writeFileSync(
  mapFile,
  `# what the analysts may see
public.ob:
  id: hash32
  v: hash
  n: keep
  flag: bool
  profile:
    country: keep
    age: hash64
    tags: skip
`,
);
const key = 'sekret';
const test = useTestDatabase();
const { chain, startWorker } = useChain(test, 'oq', {
  obfuscator_map: mapFile,
  obfuscator_key: key,
});

beforeAll(async () => {
  const { root, leaf } = chain;
  await root.db.query(`create table public.ob (id int primary key, v text,
      n int not null default 0, flag text default 'yes', secret text default 'pw',
      profile jsonb default '{"country": "ee", "age": 42, "tags": ["a"], "name": "x"}');
    insert into public.ob (id, v, flag, profile)
      select i, md5(i::text), case when i % 3 = 0 then 'no' when i % 3 = 1 then 'on' end,
             jsonb_build_object('country', 'c' || i % 5, 'age', i, 'name', 'n' || i)
        from generate_series(1, 300) i;
    create table public.other (id int primary key)`);
  await leaf.db.query(`create table public.ob (id int primary key, v uuid,
      n int not null default 0, flag boolean, profile jsonb);
    create table public.other (id int primary key)`);
});

describe('the keyed hashes', () => {
  it('are keyed BLAKE2s, as Python hashlib computes them', () => {
    const o = new Obfuscator(key);
    // blake2s(data, digest_size=16|4|8, key=b'sekret'), as uuid and big-endian signed ints.
    expect(o.hash('hello')).toBe('053efce3-91c5-6628-39d9-134fa33aa9b2');
    expect(o.hash32('hello')).toBe(-248201351);
    expect(o.hash64('hello')).toBe(-2315038946066328014n);
    expect(o.hash('42')).toBe('8c3fa27f-b835-a32c-bb9c-238c40333dd5');
    expect(o.hash32('')).toBe(-1051087387);
    expect(o.hash64('')).toBe(-6662911062776828800n);
    expect(new Obfuscator('other').hash32('hello')).not.toBe(-248201351);
  });
});

describe('bad obfuscate set-ups', () => {
  it('are refused at add-table, nothing changed', async () => {
    const { root, leaf } = chain;
    await ok([root.ini, 'add-table', 'public.ob', 'public.other']);
    const before = await snapshot(leaf.db);
    const cases: [string, string[], string][] = [
      ['public.ob', ['--handler-arg=x=1'], "Invalid handler argument: ['x']"],
      ['public.other', [], `obfuscator_map ${mapFile} has no rules for table public.other`],
    ];
    for (const [table, args, text] of cases) {
      const result = await londiste([leaf.ini, 'add-table', table, '--handler=obfuscate', ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(text);
    }
    expect(await snapshot(leaf.db)).toEqual(before);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'public.ob:\n  id: keep\n  v: {a: md5}\n');
    expect(() => loadTableRules(bad, 'public.ob')).toThrow(
      `obfuscator_map ${bad}: public.ob.v.a: invalid rule "md5"`,
    );
    writeFileSync(bad, 'public.ob: [id]\n');
    expect(() => loadTableRules(bad, 'public.ob')).toThrow('invalid rule ["id"]');
  });
});

describe('root -> leaf with obfuscate', () => {
  it('copies and replays obfuscated rows while the producer writes', {
    timeout: 240_000,
  }, async () => {
    const { root, leaf, queue } = chain;
    await ok([leaf.ini, 'add-table', 'public.ob', '--handler=obfuscate']);
    const producer = startProducer(root.db, () => ['public.ob'], 1);
    startWorker();
    try {
      await poll(
        () => states(leaf.db, queue),
        (s) => s['public.ob'] === 'ok',
        90_000,
        (s) => `ob not ok: ${JSON.stringify(s)}\n${chain.why()}`,
      );
      const ops = producer.ops;
      await poll(
        async () => producer.ops,
        (n) => n >= ops + 300,
        60_000,
      );
      await producer.stop();
      // Seeded rows changed after the copy: the hashed key finds them.
      await root.db.query(`update public.ob set v = 'changed', flag = 'off' where id <= 20;
        delete from public.ob where id between 21 and 30`);
      await synced(chain, ['public.ob']);
    } finally {
      await producer.stop();
    }
    const o = new Obfuscator(key);
    const { rows: source } = await root.db.query(
      `select id, v, n, flag, profile->>'country' as country, profile->>'age' as age
         from public.ob`,
    );
    expect(source.length).toBeGreaterThan(300);
    const bool = (text: string | null) =>
      text === null ? null : !['no', 'off', 'f', 'false', '0', 'n', ''].includes(text);
    const expected = source
      .map((r) => ({
        id: o.hash32(String(r.id)),
        v: r.v === null ? null : o.hash(r.v),
        n: r.n,
        flag: bool(r.flag),
        country: r.country,
        age: r.age === null ? null : String(o.hash64(r.age)),
        other: '[]',
      }))
      .sort((a, b) => a.id - b.id);
    const { rows: got } = await leaf.db.query(
      `select id, v::text, n, flag, profile->>'country' as country, profile->>'age' as age,
              (select coalesce(json_agg(k), '[]')::text from jsonb_object_keys(profile) k
                where k not in ('country', 'age')) as other
         from public.ob order by id`,
    );
    expect(got).toEqual(expected);
  });
});
