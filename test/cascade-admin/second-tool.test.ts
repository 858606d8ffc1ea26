/**
 * A second cascade tool built from a description (src/cascade/tool.ts) and run by the same
 * generic runner as setadm, with no Londiste code: its own INI section and database key,
 * the admin commands plus one of its own, an afterCreateNode hook, and a worker with hooks
 * run through the one job lifecycle (stopped by SIGINT as every job is).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AdminFlags, adminCommands, adminOptions } from '../../src/cascade/admin/commands.js';
import {
  type AdminSettings,
  loadAdminSettings,
  type SettingsShape,
} from '../../src/cascade/admin/settings.js';
import { CascadedWorker } from '../../src/cascade/cascaded-worker.js';
import type { CascadeTool } from '../../src/cascade/tool.js';
import { runCascadeTool } from '../../src/cli/cascade-tool.js';
import { useTestDatabase } from '../harness/database.js';
import { type NodeDb, nodeDb, produceAndTick } from './helpers.js';

const test = useTestDatabase();
const queue = 'mini q';
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-minitool-'));
let root: NodeDb;
let leaf: NodeDb;

const shape: SettingsShape = { sections: ['minitool', 'minitool3'], dbKey: 'db' };

/** The tool: setadm's commands and switches plus `greet`, and hooks of its own. */
const miniTool: CascadeTool<AdminSettings, AdminFlags & { loud?: boolean }> = {
  name: 'minitool',
  description: 'A tiny cascade tool for the test.',
  sections: shape.sections,
  dbKey: shape.dbKey,
  commands: [
    ...adminCommands,
    {
      name: 'greet',
      args: ['WHO'],
      summary: 'say hello from the local node',
      help: 'Usage: %TOOL% CONFIG greet WHO [--loud]',
      readOnly: true,
      async run(ctx, args) {
        const info = await ctx.session.localInfo();
        const line = `hello ${args[0]} from ${info.node_name}`;
        ctx.session.out.print(ctx.flags.loud ? line.toUpperCase() : line);
      },
    },
  ],
  options: [...adminOptions, { flags: '--loud', description: 'greet: shout' }],
  sampleIni: '[minitool]\ndb = dbname=node1\nqueue_name = myqueue\n',
  workerHelp: 'Usage: %TOOL% CONFIG worker',
  helpFooter: ['INI: section [minitool], key db. Help: %TOOL% --help COMMAND.'],
  loadSettings: (file, cli, overrides) => loadAdminSettings(file, cli, overrides, shape),
  adminHooks: {
    async afterCreateNode(session, node) {
      const local = await session.local();
      await local.query('create table if not exists minitool_nodes (name text, type text)');
      await local.query('insert into minitool_nodes values ($1, $2)', [node.name, node.type]);
    },
  },
  createWorker: (options) =>
    new CascadedWorker({
      ...options,
      hooks: {
        async onConnect(session, role) {
          if (role === 'subscriber') await session.query('set session_replication_role = replica');
        },
        async applyEvents(ctx, events) {
          for (const event of events) {
            await ctx.subscriber.query(
              "insert into replayed values ($1, current_setting('session_replication_role'))",
              [event.data],
            );
          }
        },
        afterCommit() {
          // The job's own graceful stop: as a SIGINT would ask for it.
          process.emit('SIGINT');
        },
      },
    }),
};

function writeIni(name: string, node: NodeDb): string {
  const file = path.join(dir, `${name}.ini`);
  writeFileSync(
    file,
    `[minitool]\njob_name = ${name}\ndb = ${node.connstr}\nqueue_name = ${queue}\nloop_delay = 0.05\n`,
  );
  return file;
}

/** Run the tool in this process, capturing stdout. */
async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const code = await runCascadeTool(miniTool, args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
  }
}

beforeAll(async () => {
  root = await nodeDb(test, 'mroot');
  leaf = await nodeDb(test, 'mleaf');
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a second cascade tool from the generic runner', () => {
  it('prints its own help, sample INI and command help', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('greet');
    expect(help.stdout).toContain('--loud');
    expect(help.stdout).toContain(
      'INI: section [minitool], key db. Help: minitool --help COMMAND.',
    );
    expect((await run(['--help', 'greet'])).stdout).toBe(
      'Usage: minitool CONFIG greet WHO [--loud]\n',
    );
    expect((await run(['--help', 'create-root'])).stdout).toMatch(
      /^Usage: minitool CONFIG create-root/,
    );
    expect((await run(['--ini'])).stdout).toBe(miniTool.sampleIni);
  });

  it('creates nodes from its own INI (key db), runs its hook, its command and its worker', async () => {
    const rootIni = writeIni('mroot', root);
    const leafIni = writeIni('mleaf', leaf);
    const made = await run([rootIni, 'create-root', 'mroot', root.connstr]);
    expect(made.stderr).not.toContain('error');
    expect(made.code).toBe(0);
    const leafMade = await run([
      leafIni,
      'create-leaf',
      'mleaf',
      leaf.connstr,
      '--provider',
      root.connstr,
    ]);
    expect(leafMade.code).toBe(0);
    for (const [node, type] of [
      [root, 'root'],
      [leaf, 'leaf'],
    ] as const) {
      const { rows } = await node.db.query('select name, type from minitool_nodes');
      expect(rows).toEqual([{ name: node.name, type }]);
    }

    const greet = await run([leafIni, 'greet', 'world', '--loud']);
    expect(greet).toEqual({ code: 0, stdout: 'HELLO WORLD FROM MLEAF\n', stderr: '' });
    const wrong = await run([leafIni, 'greet']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe("minitool: error: command 'greet' got 0 args, but expects 1: WHO\n");

    await leaf.db.query('create table replayed (data text, role text)');
    await produceAndTick(root, queue, ['one', 'two']);
    // The worker job: the tool's worker, its hooks, the lifecycle's graceful stop.
    const worker = await run([leafIni, 'worker', '-q']);
    expect(worker.code).toBe(0);
    const { rows } = await leaf.db.query('select data, role from replayed order by data');
    expect(rows).toEqual([
      { data: 'one', role: 'replica' },
      { data: 'two', role: 'replica' },
    ]);
  });
});
