/**
 * `execute FILE...` (spec §6.6): SQL files run on the root, each in one transaction with role
 * `local` (the pgq triggers stay silent), recorded in londiste.applied_execute and sent as an
 * EXECUTE event that every node replays at exactly that queue position.
 *
 * `--dry-run` changes nothing anywhere: it runs the files on every live member, in one
 * transaction per member that is rolled back, as the root and each replay would run them, and
 * names each member and statement that would fail (exit status 1 then).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { scanMembers, warnUnreachable } from '../../cascade/admin/members.js';
import type { AdminSession } from '../../cascade/admin/session.js';
import { callRet } from '../../cascade/node-calls.js';
import type { CommandContext } from '../../cascade/tool.js';
import { SkytoolsError } from '../../errors.js';
import {
  type ExecuteAttrs,
  encodeExecuteAttrs,
  needExecute,
  replaceTags,
  scriptAttrs,
} from '../execute/attrs.js';
import { runScript } from '../execute/run-script.js';
import type { LondisteSettings } from '../settings.js';
import type { TableInfo } from '../table-state.js';
import type { LondisteFlags } from './flags.js';
import { readTables } from './node-tables.js';

interface Script {
  /** The file's base name: the key of applied_execute, as upstream. */
  name: string;
  sql: string;
  attrs: ExecuteAttrs;
}

export const executeCommand = {
  name: 'execute',
  args: ['FILE...'],
  summary: 'run SQL files on the root and, through the queue, on every node',
  help: [
    'Usage: %TOOL% CONFIG execute FILE... [--dry-run]',
    '',
    'Each file runs on the root in one transaction and then, as an EXECUTE event, on every',
    'node at the same queue position. A file name runs once per database (applied_execute).',
    'Lines at the top such as "--*-- Local-Table: public.t" say where the file must run;',
    '@public.t@ in the SQL becomes the local (destination) table name.',
    '',
    '  --dry-run             run the files on every live node in a transaction that is rolled',
    '                        back, and name each node and statement that would fail',
  ].join('\n'),
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>, files: string[]) {
    if (files.length === 0) {
      throw new SkytoolsError('USAGE', 'execute needs at least one SQL file');
    }
    const scripts = files.map(readScript);
    if (ctx.session.dryRun) return dryRun(ctx.session, scripts);
    const local = await ctx.session.local();
    for (const script of scripts) await executeOnRoot(ctx.session, local, script);
  },
};

function readScript(file: string): Script {
  let sql: string;
  try {
    sql = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SkytoolsError(
      'BAD_SCRIPT',
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { file },
    );
  }
  return { name: path.basename(file), sql, attrs: scriptAttrs(sql, file) };
}

async function executeOnRoot(session: AdminSession, db: pg.Client, script: Script) {
  const context = { queue: session.queue, file: script.name };
  await db.query('begin');
  try {
    const ran = await runOnNode(session.queue, db, script, true);
    await db.query('commit');
    session.out.info(`${script.name}: ${ran}`);
  } catch (error) {
    await db.query('rollback');
    throw error instanceof SkytoolsError
      ? error
      : new SkytoolsError(
          'EXECUTE_FAILED',
          `${script.name}: ${(error as Error).message}`,
          context,
          {
            cause: error,
          },
        );
  }
}

/**
 * One file on one node inside the caller's transaction, as the root (`asRoot`) or a replay
 * runs it; says what it did.
 */
async function runOnNode(
  queue: string,
  db: pg.Client,
  script: Script,
  asRoot: boolean,
): Promise<string> {
  const context = { queue, file: script.name };
  await db.query("select londiste.set_session_replication_role('local', true)");
  const start = await callRet(
    db,
    'select * from londiste.execute_start($1, $2, $3, $4, $5)',
    [queue, script.name, script.sql, asRoot, encodeExecuteAttrs(script.attrs)],
    context,
  );
  if (start.ret_code > 200) return start.ret_note;
  const tables = await localTables(db, queue);
  let done = 'This SQL does not need to run on this node.';
  if (await needExecute(db, queue, script.attrs, tables)) {
    await runScript(db, replaceTags(script.sql, script.attrs, tables), context);
    done = 'executed';
  }
  await callRet(db, 'select * from londiste.execute_finish($1, $2)', [queue, script.name], context);
  return done;
}

async function localTables(db: pg.Client, queue: string): Promise<Map<string, TableInfo>> {
  const tables = await readTables(db, queue);
  return new Map(tables.filter((t) => t.local).map((t) => [t.tableName, t]));
}

/** Every file on every live member, rolled back; the exit status says whether all would pass. */
async function dryRun(session: AdminSession, scripts: Script[]): Promise<number> {
  const scan = await scanMembers(session);
  warnUnreachable(session, scan, 'the files were not tried');
  let failed = scan.unreachable.length;
  const members = [...scan.live].sort(
    (a, b) => Number(b.info.node_type === 'root') - Number(a.info.node_type === 'root'),
  );
  for (const member of members) {
    const asRoot = member.info.node_type === 'root';
    await member.db.query('begin');
    try {
      for (const script of scripts) {
        try {
          const done = await runOnNode(session.queue, member.db, script, asRoot);
          session.out.print(`${member.name}: ${script.name}: would pass (${done})`);
        } catch (error) {
          failed += 1;
          session.out.print(`${member.name}: would fail: ${(error as Error).message}`);
          break;
        }
      }
    } finally {
      await member.db.query('rollback');
    }
  }
  return failed === 0 ? 0 : 1;
}
