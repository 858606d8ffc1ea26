/** The ```javascript examples of docs/consumers.md (the consumer kinds) run as written. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(path.join(root, 'docs/consumers.md'), 'utf8');
const blocks = [...doc.matchAll(/```javascript\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const scratch = mkdtempSync(path.join(tmpdir(), 'skytools-kinds-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runExample(code: string, index: number) {
  const file = path.join(scratch, `kind-${index}.mjs`);
  const library = pathToFileURL(path.join(root, 'dist/index.js')).href;
  const pg = pathToFileURL(path.join(root, 'node_modules/pg/lib/index.js')).href;
  writeFileSync(
    file,
    code.replaceAll("from 'skytools'", `from '${library}'`).replaceAll("from 'pg'", `from '${pg}'`),
  );
  return spawnSync(process.execPath, [file], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: db.url },
    timeout: 60_000,
  });
}

describe('docs/consumers.md consumer kinds', () => {
  it('runs the CoopConsumer, RemoteConsumer, SerialConsumer and LocalConsumer examples', () => {
    expect(blocks.length).toBe(4);
    const outputs = blocks.map((code, i) => {
      const run = runExample(code, i);
      expect(run.stderr, `example ${i}`).toBe('');
      expect(run.status, `example ${i}`).toBe(0);
      return run.stdout;
    });
    expect(outputs).toEqual([
      'handled resize upload\n',
      'copied invoice 12\n',
      'target tracks a tick: true\n',
      'mail welcome to ann@example.com\nfile and queue agree: true\n',
    ]);
  });
});
