/**
 * docs/londiste-tables.md's root-and-leaf example, run as written: its INI files and SQL,
 * then each `londiste` line of its sh block (in this process, with the PG* variables
 * reaching the run's cluster and the two database names of this test), and the `tables`
 * output it shows.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { londiste } from './helpers.js';

const test = useTestDatabase();
const repo = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(repo, 'docs/londiste-tables.md'), 'utf8');
const example = doc.slice(doc.indexOf('## A root and a leaf'), doc.indexOf('## Commands'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-londiste-doc-'));
const savedEnv = { ...process.env };

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(() => {
  process.env = savedEnv;
  rmSync(dir, { recursive: true, force: true });
});

function block(kind: string, after = 0): { text: string; end: number } {
  const start = example.indexOf(`\`\`\`${kind}\n`, after);
  if (start < 0) throw new Error(`no \`\`\`${kind} block in the example`);
  const from = start + kind.length + 4;
  const end = example.indexOf('```', from);
  return { text: example.slice(from, end), end: end + 3 };
}

/** Words of a command line: spaces split, single quotes group (all the example uses). */
function words(line: string): string[] {
  return [...line.matchAll(/(?:'[^']*'|[^\s'])+/g)].map((m) => m[0].replace(/'/g, ''));
}

describe('docs/londiste-tables.md', () => {
  it('the root-and-leaf example runs as written', async () => {
    const names = {
      shop_root: await test.createDatabase('shop_root'),
      shop_leaf: await test.createDatabase('shop_leaf', {
        template: test.cluster.templateDatabase,
      }),
    };
    const rename = (text: string) =>
      text.replace(
        /dbname=(shop_root|shop_leaf)/g,
        (_m, db: keyof typeof names) => `dbname=${names[db]}`,
      );
    const config = test.config();
    Object.assign(process.env, {
      PGHOST: config.host,
      PGPORT: String(config.port),
      PGUSER: config.user,
    });
    for (const file of ['root.ini', 'leaf.ini']) {
      const at = example.indexOf(`\`${file}\`:`);
      writeFileSync(path.join(dir, file), rename(block('ini', at).text));
    }
    const rootDb = await test.connect({ database: names.shop_root });
    await rootDb.query(block('sql').text);
    let last = { code: 0, stdout: '', stderr: '' };
    const sh = block('sh');
    for (const line of sh.text.split('\n').filter((l) => l.trim() !== '')) {
      const [tool, ini, ...rest] = words(rename(line));
      expect(tool).toBe('londiste');
      last = await londiste([path.join(dir, ini as string), ...rest]);
      if (last.code !== 0) throw new Error(`${line} failed:\n${last.stderr}`);
    }
    expect(last.stdout).toBe(block('', sh.end).text);
  });
});
