/** connect, install, select passthrough, exit, and the node commands upstream left out. */
import { installSchemas } from '../../db/installer.js';
import { quoteIdent } from '../../db/quote.js';
import { schemaRequires } from '../../db/sql-files.js';
import { SkytoolsError } from '../../errors.js';
import { alt, flag, rest, seq } from '../grammar.js';
import { lexStatement, type Token } from '../lexer.js';
import type { QadminSession } from '../session.js';
import { formatTable } from '../table.js';
import { type QadminCommand, quoteName, requireQueue } from './command.js';

const connectKeys = ['dbname', 'host', 'port', 'user', 'password', 'queue', 'node'];

/** `key=value` pairs of `connect` (commas between them optional). */
export function parseConnectArgs(text: string): Map<string, string> {
  const tokens = lexStatement(text);
  const pairs = new Map<string, string>();
  let i = 0;
  const fail = (token: Token | undefined, wanted: string): never => {
    throw new SkytoolsError(
      'USAGE',
      `syntax error in connect: expected ${wanted}${token ? ` at "${token.value}"` : ' at end of command'}`,
    );
  };
  while (i < tokens.length) {
    if (tokens[i]?.value === ',') {
      i++;
      continue;
    }
    const key = tokens[i];
    if (key?.kind !== 'word') fail(key, 'a keyword');
    const name = (key as Token).value.toLowerCase();
    if (!connectKeys.includes(name)) {
      throw new SkytoolsError(
        'USAGE',
        `unknown connect keyword "${name}"; known: ${connectKeys.join(', ')}`,
      );
    }
    if (tokens[i + 1]?.value !== '=') fail(tokens[i + 1], '=');
    const value = tokens[i + 2];
    if (value === undefined || value.kind === 'sign') fail(value, 'a value');
    pairs.set(name, (value as Token).value);
    i += 3;
  }
  return pairs;
}

/** A libpq `key='value'` fragment, quoted as libpq reads it. */
function libpqPair(key: string, value: string): string {
  return `${key}='${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

async function connect(session: QadminSession, text: string): Promise<string> {
  const pairs = parseConnectArgs(text);
  const keywords = [...pairs]
    .filter(([key]) => key !== 'queue' && key !== 'node')
    .map(([key, value]) => libpqPair(key, value))
    .join(' ');
  const queue = pairs.get('queue') ?? session.queue;
  const node = pairs.get('node');
  // `connect;` alone reconnects (after a lost connection); queue= or node= alone do not.
  if (keywords !== '' || pairs.size === 0 || !session.connected) await session.reconnect(keywords);
  if (node !== undefined) {
    if (queue === null) {
      throw new SkytoolsError('USAGE', 'connect node=... needs a queue: add queue=QUEUE');
    }
    const location = await session.value(
      'select node_location from pgq_node.node_location where queue_name = $1 and node_name = $2',
      [queue, node],
    );
    if (location === null) {
      throw new SkytoolsError(
        'UNKNOWN_NODE',
        `unknown node: ${quoteName(node)} on queue ${quoteName(queue)}`,
        { node, queue },
      );
    }
    await session.reconnect(location);
  }
  if (pairs.has('queue')) {
    await requireQueue(session, pairs.get('queue') ?? '');
    session.queue = pairs.get('queue') ?? null;
  }
  const on = session.queue === null ? '' : `, queue ${quoteName(session.queue)}`;
  return `connected to ${session.label}${on}`;
}

/** The schema and those it needs that are not installed yet (ours or upstream's). */
async function schemasToInstall(session: QadminSession, schema: string): Promise<string[]> {
  const needed: string[] = [];
  for (const required of schemaRequires[schema] ?? []) {
    const present = await session.value('select pg_catalog.to_regprocedure($1)::text', [
      `${quoteIdent(required)}.version()`,
    ]);
    if (present === null) needed.push(required);
  }
  return [...needed, schema];
}

export const sessionCommands: QadminCommand[] = [
  {
    grammar: seq('connect', rest('keywords')),
    help: [
      'connect [dbname=.. host=.. port=.. user=.. password=..] [queue=..] [node=..];',
      'connect elsewhere (what is not given is kept), choose the current queue, or go to a cascade node',
    ],
    run: (session, args) => connect(session, args.keywords ?? ''),
  },
  {
    grammar: seq(
      'install',
      alt(
        flag('pgq', 'schema'),
        flag('pgq_node', 'schema'),
        flag('pgq_coop', 'schema'),
        flag('pgq_ext', 'schema'),
        flag('londiste', 'schema'),
      ),
    ),
    help: [
      'install pgq|pgq_node|pgq_coop|pgq_ext|londiste;',
      'install or upgrade a schema (and those it needs)',
    ],
    async run(session, args) {
      const schemas = await schemasToInstall(session, (args.schema ?? '').toLowerCase());
      const results = await installSchemas(session.pgClient, schemas);
      return results
        .map((r) =>
          r.previous === null
            ? `installed ${r.schema} ${r.current}`
            : r.previous === r.current
              ? `${r.schema} ${r.current} already installed`
              : `upgraded ${r.schema} ${r.previous} -> ${r.current}`,
        )
        .join('\n');
    },
  },
  {
    grammar: seq('select', rest('sql')),
    help: ['select ...;', 'any query, its result shown as a table'],
    async run(session, args) {
      return formatTable(await session.rows(`select ${args.sql ?? ''}`));
    },
  },
  {
    grammar: alt('exit', 'quit'),
    help: ['exit;', 'leave qadmin (also quit, Ctrl-D)'],
    run: async () => ({ text: '', exit: true }),
  },
  {
    grammar: seq(alt('create node', 'alter node', 'takeover'), rest('ignored')),
    help: ['create node / alter node / takeover', 'not in qadmin (as upstream): use setadm'],
    async run() {
      throw new SkytoolsError(
        'USAGE',
        'node create, alter and takeover are not qadmin commands (upstream never implemented them): use setadm',
      );
    },
  },
];
