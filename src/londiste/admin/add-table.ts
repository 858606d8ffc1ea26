/**
 * `add-table TABLE...`: start replicating tables into the local node (spec §6.2, §6.4). On
 * the root a table joins the set; elsewhere it must be in the set, local on the provider
 * (or on the copy node), and waits for its copy. Every name, switch and table is checked
 * before the first change, so bad input changes nothing.
 */
import type pg from 'pg';
import type { AdminSession } from '../../cascade/admin/session.js';
import type { CommandContext } from '../../cascade/tool.js';
import { SkytoolsError } from '../../errors.js';
import type { LondisteSettings } from '../settings.js';
import { splitFqname } from '../table-names.js';
import type { TableInfo } from '../table-state.js';
import { type CopySource, findCopyNode, namedCopyNode } from './copy-source.js';
import type { LondisteFlags } from './flags.js';
import { loadConfiguredHandlers } from './handler-modules.js';
import { localRelations, readTables, relationFacts } from './node-tables.js';
import { resolveNames } from './object-names.js';
import { createTableStatements, runCreate } from './table-create.js';
import { addTableAttrs, checkConflicts, handlerChoice, triggerArgs } from './table-options.js';
import { waitSync } from './wait-sync.js';

type Context = CommandContext<LondisteSettings, LondisteFlags>;

interface Plan {
  table: string;
  dest: string;
  /** In the provider's set but not yet in the local table_info. */
  registerFirst: boolean;
  create?: { statements: string[]; notes: string[] };
  args: string[];
  attrs: string;
}

export const addTableCommand = {
  name: 'add-table',
  args: ['TABLE...'],
  summary: 'replicate tables into the local node (globs, --all)',
  help: [
    'Usage: %TOOL% CONFIG add-table TABLE... [options]',
    '',
    'Names are schema.name as stored (case kept, no schema = public); * and ? are globs over the',
    "tables available: on the root the database's tables, elsewhere the tables of the set.",
    'On a branch or leaf a table must be local on the provider (or on the copy node).',
    '',
    '  --all                   every table not yet added',
    '  --create                create a missing table (columns, primary key) from the provider',
    '  --create-full           also its other indexes and check/unique/exclusion constraints',
    '  --expect-sync           no copy: the table already has the data',
    '  --skip-truncate         the copy keeps the rows the table has',
    '  --dest-table NAME       apply into this local table (one table only)',
    '  --handler NAME          table handler (see show-handlers)',
    '  --handler-arg KEY=VAL   handler argument (repeatable)',
    '  --trigger-flags FLAGS   trigger flags: B/A before/after, I/U/D events, L/Q/J trigger, S skip',
    '  --trigger-arg ARG       argument for the pgq trigger (repeatable; backup, ignore=, pkey=, ...)',
    '  --no-triggers           create no triggers',
    '  --copy-node NODE        copy from this node instead of the provider',
    '  --find-copy-node        copy from the first node upstream that holds the tables',
    '  --merge-all, --no-merge merge leaf: the table from every source queue, or this one only',
    '  --max-parallel-copy N   copies of this table at once at most',
    '  --skip-non-existing     skip tables the provider lacks, with a warning',
    '  --force                 accept names that are not available',
    '  --wait-sync             then wait until every local table is in sync',
    '  --dry-run               print the changes it would make, change nothing',
  ].join('\n'),
  async run(ctx: Context, words: string[]) {
    await addTables(ctx, words);
  },
};

async function addTables(ctx: Context, words: string[]): Promise<void> {
  const { session, flags, settings } = ctx;
  checkConflicts(flags);
  await loadConfiguredHandlers(settings);
  if (words.length === 0 && !flags.all) {
    throw new SkytoolsError('USAGE', 'add-table needs table names or --all');
  }
  const createFull = flags.createFull === true;
  const create = flags.create === true || createFull;
  const local = await session.local();
  const info = await session.localInfo();
  const isRoot = info.node_type === 'root';
  const nodeName = info.node_name as string;
  if (isRoot && (flags.copyNode !== undefined || flags.findCopyNode)) {
    throw new SkytoolsError(
      'BAD_OPTIONS',
      '--copy-node and --find-copy-node are for branches and leaves: the root copies from nobody',
    );
  }
  const localList = await readTables(local, session.queue);
  const localNames = new Set(localList.filter((t) => t.local).map((t) => t.tableName));
  let available: string[];
  let provider: CopySource | undefined;
  if (isRoot) {
    available = [
      ...new Set([...(await localRelations(local, 'r')), ...localList.map((t) => t.tableName)]),
    ];
  } else {
    const name = info.provider_node as string;
    const db = await session.node(name);
    provider = { name, db, tables: await readTables(db, session.queue) };
    available = provider.tables.map((t) => t.tableName);
  }
  const tables = resolveNames(session.out, words, {
    kind: 'table',
    available,
    done: localNames,
    all: flags.all,
    // A replica's --all: the set as it knows it (register_* filters applied), not the provider's.
    allFrom: isRoot ? undefined : localList.map((t) => t.tableName),
    force: flags.force,
    skipMissing: flags.skipNonExisting,
  });
  if (tables.length === 0) return;
  if (flags.destTable !== undefined && (tables.length > 1 || flags.all)) {
    throw new SkytoolsError('BAD_OPTIONS', '--dest-table works with one table only');
  }

  let source = provider;
  if (flags.copyNode !== undefined) source = await namedCopyNode(session, info, flags.copyNode);
  else if (flags.findCopyNode) source = await findCopyNode(session, info, tables);
  const wanted = provider === undefined ? tables : checkProvider(session, provider, tables, flags);
  if (flags.copyNode !== undefined && source !== undefined) {
    for (const table of wanted) {
      if (!source.tables.some((t) => t.tableName === table && t.local)) {
        throw new SkytoolsError(
          'MISSING_OBJECT',
          `Table ${table} does not exist on copy node ${source.name}`,
          { table, copyNode: source.name },
        );
      }
    }
  }

  const plans: Plan[] = [];
  for (const table of wanted) {
    const dest = flags.destTable === undefined ? table : fqDest(flags.destTable);
    const handler = await handlerChoice(flags, table, dest, settings.handlerConfig);
    const plan: Plan = {
      table,
      dest,
      registerFirst: !isRoot && !localList.some((t) => t.tableName === table),
      args: handler.addTriggerArgs(triggerArgs(flags)),
      attrs: addTableAttrs(
        flags,
        handler,
        flags.copyNode ?? (flags.findCopyNode ? source?.name : undefined),
      ),
    };
    if (handler.needsTable) {
      const { schema, name } = splitFqname(dest);
      const facts = await relationFacts(local, schema, name);
      if (facts.kind === null && create && source !== undefined) {
        plan.create = await createTableStatements(source.db, table, dest, createFull);
      } else if (facts.kind !== 'r') {
        throw new SkytoolsError('MISSING_OBJECT', `Table does not exist: ${dest}`, { table: dest });
      } else if (!facts.hasPrimaryKey) {
        throw new SkytoolsError('MISSING_OBJECT', `Primary key missing on table: ${dest}`, {
          table: dest,
        });
      }
    } else if (!isRoot && !plan.args.includes('virtual_table')) {
      // A handler that stores nothing (qtable, shard with disable_replay) on a replica
      // without the table: registered as a virtual table, so no trigger and no copy needs it.
      const { schema, name } = splitFqname(dest);
      if ((await relationFacts(local, schema, name)).kind === null) {
        plan.args = [...plan.args, 'virtual_table'];
      }
    }
    plans.push(plan);
  }

  // DDL of add-table must not queue behind a long lock for ever.
  await local.query(`select pg_catalog.set_config('statement_timeout', $1, false)`, [
    `${Math.round(settings.lockTimeout * 1000)}`,
  ]);
  for (const plan of plans) await addOne(session, nodeName, local, plan);
  // As upstream: every local table, not only the ones just added.
  if (flags.waitSync && !session.dryRun) await waitSync(session);
}

function fqDest(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

/**
 * A branch or leaf replicates what its provider has: a table not local there is refused,
 * unless another node copies it or no copy is needed (--expect-sync), or it is skipped.
 */
function checkProvider(
  session: AdminSession,
  provider: CopySource,
  tables: string[],
  flags: LondisteFlags,
): string[] {
  const out: string[] = [];
  for (const table of tables) {
    const row: TableInfo | undefined = provider.tables.find((t) => t.tableName === table);
    const exempt =
      flags.expectSync || flags.findCopyNode || flags.copyNode !== undefined || flags.force;
    if (row?.local || exempt) {
      out.push(table);
      continue;
    }
    const message = `Table ${table} does not exist on provider, need to switch to different provider`;
    if (flags.skipNonExisting) session.out.warn(`${message}; skipping`);
    else throw new SkytoolsError('MISSING_OBJECT', message, { table, provider: provider.name });
  }
  return out;
}

async function addOne(session: AdminSession, nodeName: string, local: pg.Client, plan: Plan) {
  const { queue } = session;
  if (plan.registerFirst) {
    session.out.info(`Table ${plan.table} info missing from subscriber, adding`);
    await session.change(nodeName, local, 'select * from londiste.global_add_table($1, $2)', [
      queue,
      plan.table,
    ]);
  }
  if (plan.create !== undefined) {
    await runCreate(session, nodeName, local, plan.dest, plan.create.statements, plan.create.notes);
  }
  await session.change(
    nodeName,
    local,
    'select * from londiste.local_add_table($1, $2, $3, $4, $5)',
    [
      queue,
      plan.table,
      plan.args,
      plan.attrs === '' ? null : plan.attrs,
      plan.dest === plan.table ? null : plan.dest,
    ],
  );
}
