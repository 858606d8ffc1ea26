/**
 * The `londiste` bin loads what the asked command needs: `--help` (and so every command's
 * start) loads neither the worker, the copy, the handlers, compare nor the logging and COPY
 * packages; those load when their command runs. The loaded files are recorded by a module
 * hook of node's own (`module.register`), so this is what the process really loaded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The bin runs compiled code: `npm test` builds dist/ first (pretest).
const root = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(os.tmpdir(), 'skytools-lazy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

writeFileSync(
  path.join(work, 'hooks.mjs'),
  [
    "import { appendFileSync } from 'node:fs';",
    'export async function load(url, context, next) {',
    "  if (url.startsWith('file:')) appendFileSync(process.env.LAZY_LOAD_LOG, url + '\\n');",
    '  return next(url, context);',
    '}',
  ].join('\n'),
);
writeFileSync(
  path.join(work, 'register.mjs'),
  "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
);

/** Runs the londiste bin with `args`; resolves with the files it loaded (relative to the repo). */
function loaded(name: string, args: string[]): { status: number | null; files: string[] } {
  const log = path.join(work, `${name}.log`);
  writeFileSync(log, '');
  const run = spawnSync(
    process.execPath,
    ['--import', path.join(work, 'register.mjs'), path.join(root, 'bin', 'londiste.js'), ...args],
    { env: { ...process.env, LAZY_LOAD_LOG: log }, encoding: 'utf8' },
  );
  const files = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((url) => path.relative(root, new URL(url).pathname));
  return { status: run.status, files };
}

const heavy = [
  'dist/londiste/worker/factory.js',
  'dist/londiste/worker/replay.js',
  'dist/londiste/worker/copy-worker.js',
  'dist/londiste/copy/run-copy-job.js',
  'dist/londiste/copy/copy-table.js',
  'dist/londiste/apply/',
  'dist/londiste/handlers/registry.js',
  'dist/londiste/compare/table-compare.js',
  'dist/cascade/cascaded-worker.js',
  'dist/cascade/admin/takeover.js',
  'node_modules/pino/',
  'node_modules/pg-copy-streams/',
  'node_modules/yaml/',
  'node_modules/@noble/',
];

describe('londiste bin: modules loaded per command', () => {
  it('--help and --ini load none of the worker, copy, handlers or compare', () => {
    for (const [name, args] of [
      ['help', ['--help']],
      ['ini', ['--ini']],
    ] as const) {
      const { status, files } = loaded(name, [...args]);
      expect(status).toBe(0);
      expect(files).toContain('dist/cli/londiste.js');
      expect(files.filter((file) => heavy.some((prefix) => file.startsWith(prefix)))).toEqual([]);
    }
  });

  it('the handlers load for the command that lists them', () => {
    const ini = path.join(work, 'x.ini');
    writeFileSync(ini, '[londiste]\njob_name = x\ndb = dbname=nowhere\nqueue_name = q\n');
    // show-handlers reads no database: the list is the tool's own.
    const { status, files } = loaded('show-handlers', [ini, 'show-handlers']);
    expect(status).toBe(0);
    expect(files).toContain('dist/londiste/handlers/registry.js');
    expect(files).not.toContain('dist/londiste/worker/copy-worker.js');
  });
});
