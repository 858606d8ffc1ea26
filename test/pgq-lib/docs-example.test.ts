import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { spawnChild } from './child-process.js';
import { waitFor } from './helpers.js';

const db = useTestDatabase();
const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(path.join(root, 'docs/consumers.md'), 'utf8');
const allBlocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string);
// The example that runs until Ctrl-C is run on its own, with a signal.
const forever = allBlocks.filter((code) => code.includes('stopOnSignals()'));
const blocks = allBlocks.filter((code) => !forever.includes(code));
// The examples import 'skytools' and 'pg'; here they run from a scratch directory.
const scratch = mkdtempSync(path.join(tmpdir(), 'skytools-docs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function writeExample(code: string, index: number): string {
  const file = path.join(scratch, `example-${index}.mjs`);
  const library = pathToFileURL(path.join(root, 'dist/index.js')).href;
  const pg = pathToFileURL(path.join(root, 'node_modules/pg/lib/index.js')).href;
  writeFileSync(
    file,
    code
      .replaceAll("from 'skytools'", `from '${library}'`)
      .replaceAll("from 'pg'", `from '${pg}'`)
      .replaceAll("import('pg')", `import('${pg}')`),
  );
  return file;
}

function runExample(code: string, index: number) {
  const file = writeExample(code, index);
  return spawnSync(process.execPath, [file], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: db.url },
    timeout: 60_000,
  });
}

describe('docs/consumers.md', () => {
  it('has the producer and consumer examples', () => {
    expect(blocks.length).toBe(4);
    expect(forever.length).toBe(1);
  });

  it('runs every example as written, in order', () => {
    const outputs = blocks.map((code, i) => {
      const run = runExample(code, i);
      expect(run.stderr, `example ${i}`).toBe('');
      expect(run.status, `example ${i}`).toBe(0);
      return run.stdout;
    });
    expect(outputs).toEqual([
      '',
      'event inserted, 5000 copied\n',
      'billing order 42\nbilling order 7\n',
      'audit finished batch with 0 retried\n',
    ]);
  });

  it('runs the Ctrl-C example until SIGINT, which finishes the batch and lets the program end', async () => {
    const child = spawnChild(writeExample(forever[0] as string, 9), [], { DATABASE_URL: db.url });
    await waitFor(async () => child.output().includes('mailer running'), 'the mailer to start');
    await db.query("select pgq.insert_event('orders', 'order.shipped', '{}')");
    await db.query("select pgq.force_tick('orders')");
    await db.query("select pgq.ticker('orders')");
    await waitFor(async () => child.output().includes('mail about order.shipped'), 'the event');
    child.proc.kill('SIGINT');
    expect(await child.exited).toBe(0);
    expect(child.output()).toContain(
      'got SIGINT: stopping after the work in hand (SIGINT again: exit at once)\n',
    );
    expect(child.output().endsWith('mailer stopped\n')).toBe(true);
    // The batch was finished: nothing is left for the mailer.
    const { rows } = await db.query<{ pending: string }>(
      "select pending_events::text as pending from pgq.get_consumer_info('orders', 'mailer')",
    );
    expect(rows[0]?.pending).toBe('0');
  });
});
