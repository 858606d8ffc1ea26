/** The londiste commands of qadmin: add/remove tables and sequences, list them, missing. */
import { SkytoolsError } from '../../errors.js';
import { alt, opt, rest, seq, slot } from '../grammar.js';
import { lexStatement, type Token } from '../lexer.js';
import type { QadminSession } from '../session.js';
import { formatTable } from '../table.js';
import { type QadminCommand, queueOf, requireQueue, requireSchema } from './command.js';

/** Options of `add table ... with`, as local_add_table's trigger arguments take them. */
const flagOptions = [
  'no_triggers',
  'skip_truncate',
  'expect_sync',
  'backup',
  'skip',
  'merge_all',
  'no_merge',
  'virtual_table',
];
const valueOptions = /^(tgflags|when|ev_(type|data|extra[1-4]))$/;

export function parseTableOptions(text: string): string[] {
  const tokens = lexStatement(text);
  const args: string[] = [];
  let i = 0;
  const fail = (token: Token | undefined, wanted: string): never => {
    throw new SkytoolsError(
      'USAGE',
      `syntax error in add table options: expected ${wanted}${token ? ` at "${token.value}"` : ' at end of command'}`,
    );
  };
  while (i < tokens.length) {
    const name = tokens[i];
    if (name?.kind !== 'word') fail(name, 'an option name');
    const option = (name as Token).value.toLowerCase();
    if (tokens[i + 1]?.value === '=') {
      if (!valueOptions.test(option)) {
        throw new SkytoolsError(
          'USAGE',
          `unknown add table option "${option}" with a value; known: tgflags, when, ev_type, ev_data, ev_extra1..4`,
        );
      }
      const value = tokens[i + 2];
      if (value === undefined || value.kind === 'sign') fail(value, 'a value');
      args.push(`${option}=${(value as Token).value}`);
      i += 3;
    } else {
      if (!flagOptions.includes(option)) {
        throw new SkytoolsError(
          'USAGE',
          `unknown add table option "${option}"; known: ${flagOptions.join(', ')}, tgflags=, when=, ev_XX=`,
        );
      }
      args.push(option);
      i += 1;
    }
    if (i < tokens.length) {
      if (tokens[i]?.value !== ',') fail(tokens[i], '","');
      i++;
      if (i >= tokens.length) fail(undefined, 'an option name');
    }
  }
  return args;
}

async function londisteQueue(
  session: QadminSession,
  args: Record<string, string>,
): Promise<string> {
  const queue = queueOf(session, args);
  await requireSchema(session, 'londiste');
  await requireQueue(session, queue);
  return queue;
}

/** A (ret_code, ret_note) call: the note, or an error with it for codes >= 400. */
async function retCall(session: QadminSession, sql: string, values: unknown[]): Promise<string> {
  const { rows } = await session.rows(sql, values);
  const [code, note] = rows[0] ?? [];
  if (Number(code) >= 400) {
    throw new SkytoolsError('CASCADE_REFUSED', note ?? `failed with code ${code}`, { code });
  }
  return note ?? '';
}

export const londisteCommands: QadminCommand[] = [
  {
    grammar: seq('londiste add table', slot('table', 'table'), opt('with', rest('options'))),
    help: [
      "londiste add table T [with no_triggers, skip_truncate, expect_sync, tgflags='..', backup, skip, when='..', ev_XX='..'];",
      'replicate a table on the current queue',
    ],
    async run(session, args) {
      const options = parseTableOptions(args.options ?? '');
      const queue = await londisteQueue(session, args);
      return retCall(session, 'select * from londiste.local_add_table($1, $2, $3::text[])', [
        queue,
        args.table,
        options,
      ]);
    },
  },
  {
    grammar: seq('londiste add sequence', slot('sequence', 'sequence')),
    help: ['londiste add sequence S;', 'replicate a sequence on the current queue'],
    async run(session, args) {
      const queue = await londisteQueue(session, args);
      return retCall(session, 'select * from londiste.local_add_seq($1, $2)', [
        queue,
        args.sequence,
      ]);
    },
  },
  {
    grammar: seq(
      'londiste remove',
      alt(seq('table', slot('table', 'table')), seq('sequence', slot('sequence', 'sequence'))),
    ),
    help: ['londiste remove table T; / londiste remove sequence S;', 'stop replicating it here'],
    async run(session, args) {
      const queue = await londisteQueue(session, args);
      return args.table !== undefined
        ? retCall(session, 'select * from londiste.local_remove_table($1, $2)', [queue, args.table])
        : retCall(session, 'select * from londiste.local_remove_seq($1, $2)', [
            queue,
            args.sequence,
          ]);
    },
  },
  {
    grammar: seq('londiste tables'),
    help: ['londiste tables;', 'the tables of the current queue and their state'],
    async run(session, args) {
      const queue = await londisteQueue(session, args);
      const result = await session.rows(
        'select table_name, local, merge_state, table_attrs, dest_table from londiste.get_table_list($1)',
        [queue],
      );
      return formatTable(result, `Tables on queue ${JSON.stringify(queue)}`);
    },
  },
  {
    grammar: seq('londiste seqs'),
    help: ['londiste seqs;', 'the sequences of the current queue'],
    async run(session, args) {
      const queue = await londisteQueue(session, args);
      const result = await session.rows('select * from londiste.get_seq_list($1)', [queue]);
      return formatTable(result, `Sequences on queue ${JSON.stringify(queue)}`);
    },
  },
  {
    grammar: seq('londiste missing'),
    help: ['londiste missing;', 'tables and sequences not replicated here yet'],
    async run(session, args) {
      const queue = await londisteQueue(session, args);
      const result = await session.rows(
        'select obj_kind, obj_name from londiste.local_show_missing($1) order by 1, 2',
        [queue],
      );
      return formatTable(result, `Missing on queue ${JSON.stringify(queue)}`);
    },
  },
];
