/**
 * Tab completion: what may come next at the cursor, from the same grammars that parse the
 * statements: keywords, and queue, consumer, node, table and sequence names read from the
 * connected database.
 */
import { commands } from './commands/index.js';
import { matchGrammar, type SlotKind, type Terminal } from './grammar.js';
import { completionWord, lex, splitStatements } from './lexer.js';
import type { QadminSession } from './session.js';

const nameQueries: Partial<Record<SlotKind, string>> = {
  queue: 'select queue_name from pgq.get_queue_info() order by 1',
  consumer: `select distinct consumer_name from pgq.get_consumer_info()
              where $1::text is null or queue_name = $1 order by 1`,
  batch: `select distinct consumer_name from pgq.get_consumer_info()
           where $1::text is null or queue_name = $1 order by 1`,
  node: `select distinct node_name from pgq_node.node_location
          where $1::text is null or queue_name = $1 order by 1`,
  table: `select n.nspname || '.' || c.relname from pg_catalog.pg_class c
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
           where c.relkind in ('r', 'p') and n.nspname !~ '^(pg_|information_schema$)' order by 1`,
  sequence: `select n.nspname || '.' || c.relname from pg_catalog.pg_class c
               join pg_catalog.pg_namespace n on n.oid = c.relnamespace
              where c.relkind = 'S' and n.nspname !~ '^(pg_|information_schema$)' order by 1`,
};

/** The statement being typed, the word under the cursor, and the tokens before it. */
function cursorContext(before: string) {
  const statement = splitStatements(before).rest.replace(/^\s+/, '');
  const { tokens, openQuote } = lex(statement);
  if (openQuote !== undefined) return { statement, tokens, partial: statement.slice(openQuote) };
  const last = tokens.at(-1);
  if (last !== undefined && last.end === statement.length && last.kind === 'word') {
    return { statement, tokens: tokens.slice(0, -1), partial: last.value };
  }
  return { statement, tokens, partial: '' };
}

/** Completions of the text before the cursor, and the part of it they replace. */
export async function complete(
  session: QadminSession,
  before: string,
): Promise<[string[], string]> {
  const { statement, tokens, partial } = cursorContext(before);
  const terminals: { terminal: Terminal; queue: string | undefined }[] = [];
  for (const command of commands) {
    const result = matchGrammar(command.grammar, tokens, statement);
    if (result.furthest !== tokens.length) continue;
    // The queue named earlier in the statement narrows consumer and node names.
    const queue = tokens.find((_token, i) =>
      ['on', 'from'].includes(tokens[i - 1]?.value.toLowerCase() ?? ''),
    )?.value;
    for (const terminal of result.expected) terminals.push({ terminal, queue });
  }
  const candidates = new Set<string>();
  for (const { terminal, queue } of terminals) {
    if (terminal.type === 'kw') candidates.add(terminal.word);
    if (terminal.type !== 'slot') continue;
    if (terminal.star) candidates.add('*');
    for (const name of await names(session, terminal.kind, queue ?? session.queue)) {
      candidates.add(completionWord(name));
    }
  }
  const hits = [...candidates].filter((c) => c.startsWith(partial)).sort();
  return [hits, partial];
}

async function names(
  session: QadminSession,
  kind: SlotKind,
  queue: string | null,
): Promise<string[]> {
  const sql = nameQueries[kind];
  if (sql === undefined || !session.connected) return [];
  try {
    return await session.list(sql, sql.includes('$1') ? [queue] : []);
  } catch {
    // A schema that is not installed has no names to offer; Tab must never print errors.
    return [];
  }
}
