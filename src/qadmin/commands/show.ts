/** show node / table / sequence / version. */
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import { packageVersion } from '../../version.js';
import { sequenceDdl, tableDdl } from '../ddl.js';
import { opt, seq, slot } from '../grammar.js';
import { formatTable } from '../table.js';
import { type QadminCommand, quoteName, requireSchema } from './command.js';

const schemas = ['pgq', 'pgq_node', 'pgq_coop', 'pgq_ext', 'londiste'];

export const showCommands: QadminCommand[] = [
  {
    grammar: seq('show node', opt(slot('node', 'node', true), opt('on', slot('queue', 'queue')))),
    help: [
      'show node [N|* [on Q]];',
      'cascade members known here: type (of the local node), dead, location',
    ],
    async run(session, args) {
      await requireSchema(session, 'pgq_node');
      const node = args.node === undefined || args.node === '*' ? null : args.node;
      const queue = args.queue ?? session.queue ?? null;
      const result = await session.rows(
        `select l.queue_name, l.node_name, i.node_type, l.dead, l.node_location
           from pgq_node.node_location l
           left join pgq_node.node_info i on i.queue_name = l.queue_name and i.node_name = l.node_name
          where ($1::text is null or l.queue_name = $1) and ($2::text is null or l.node_name = $2)
          order by 1, 2`,
        [queue, node],
      );
      if (result.rows.length === 0 && (node !== null || queue !== null)) {
        const where = queue === null ? '' : ` on queue ${quoteName(queue)}`;
        throw new SkytoolsError(
          'UNKNOWN_NODE',
          node === null
            ? `no cascade nodes${where}: the queue is not cascaded in this database`
            : `unknown node: ${quoteName(node)}${where}`,
          { node, queue },
        );
      }
      const title = node !== null ? `Node ${quoteName(node)}` : 'Nodes';
      return formatTable(result, queue === null ? title : `${title} on queue ${quoteName(queue)}`);
    },
  },
  {
    grammar: seq('show table', slot('table', 'table')),
    help: ['show table T;', 'the DDL of a table (schema.name, default schema public)'],
    run: (session, args) => tableDdl(session, args.table ?? ''),
  },
  {
    grammar: seq('show sequence', slot('sequence', 'sequence')),
    help: ['show sequence S;', 'the DDL of a sequence'],
    run: (session, args) => sequenceDdl(session, args.sequence ?? ''),
  },
  {
    grammar: seq('show version'),
    help: ['show version;', 'versions of qadmin, the server and the installed schemas'],
    async run(session) {
      const rows: (string | null)[][] = [];
      for (const schema of schemas) {
        const has = async (fn: string) =>
          (await session.value('select pg_catalog.to_regprocedure($1)::text', [
            `${quoteIdent(schema)}.${fn}()`,
          ])) !== null;
        if (!(await has('version'))) {
          rows.push([schema, null, null]);
          continue;
        }
        const version = await session.value(`select ${quoteIdent(schema)}.version()`);
        const ours = (await has('skytools_version'))
          ? `${await session.value(`select ${quoteIdent(schema)}.skytools_version()`)}`
          : 'upstream';
        rows.push([schema, version, ours]);
      }
      const server = await session.value('show server_version');
      const table = formatTable(
        {
          columns: ['schema', 'version', 'installed_by'].map((name) => ({ name, numeric: false })),
          rows,
        },
        'Schemas',
      );
      return `qadmin version ${packageVersion}\nserver: PostgreSQL ${server}\n${table}`;
    },
  },
];
