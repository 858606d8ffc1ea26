/** Queue commands: create, drop, alter ... set, show queue. */
import { SkytoolsError } from '../../errors.js';
import { opt, rest, seq, slot } from '../grammar.js';
import { lexStatement, type Token } from '../lexer.js';
import { formatTable } from '../table.js';
import {
  allQueues,
  type QadminCommand,
  quoteName,
  requireQueue,
  requireSchema,
} from './command.js';

/** qadmin's short names for the queue settings, and the pgq.set_queue_config names. */
const settingNames: Record<string, string> = {
  idle_period: 'ticker_idle_period',
  max_count: 'ticker_max_count',
  max_lag: 'ticker_max_lag',
  paused: 'ticker_paused',
  rotation_period: 'rotation_period',
  external_ticker: 'external_ticker',
};

export const queueSettingNames = Object.keys(settingNames);

/** `k = v, k = v` of `alter queue ... set`, checked before anything changes. */
export function parseSettings(text: string): [string, string][] {
  const tokens = lexStatement(text);
  const settings: [string, string][] = [];
  let i = 0;
  const fail = (token: Token | undefined, wanted: string): never => {
    throw new SkytoolsError(
      'USAGE',
      `syntax error in alter queue: expected ${wanted}${token ? ` at "${token.value}"` : ' at end of command'}`,
    );
  };
  while (i < tokens.length || settings.length === 0) {
    const key = tokens[i];
    if (key?.kind !== 'word') fail(key, 'a setting name');
    const name = (key as Token).value.toLowerCase();
    const real = settingNames[name] ?? settingNames[name.replace(/^(queue_)?(ticker_)?/, '')];
    if (real === undefined) {
      throw new SkytoolsError(
        'USAGE',
        `unknown queue setting "${(key as Token).value}"; known: ${queueSettingNames.join(', ')}`,
      );
    }
    if (tokens[i + 1]?.value !== '=') fail(tokens[i + 1], '=');
    const value = tokens[i + 2];
    if (value === undefined || value.kind === 'sign') fail(value, 'a value');
    settings.push([real, (value as Token).value]);
    i += 3;
    if (i < tokens.length) {
      if (tokens[i]?.value !== ',') fail(tokens[i], '","');
      i++;
      if (i >= tokens.length) fail(undefined, 'a setting name');
    }
  }
  return settings;
}

const queueColumns = `queue_name,
  queue_cur_table || '/' || queue_ntables as tables,
  queue_rotation_period as rotation,
  queue_switch_time as switch_time,
  queue_external_ticker as ext_tick,
  queue_ticker_max_count as max_count,
  queue_ticker_max_lag as max_lag,
  queue_ticker_idle_period as idle_period,
  ticker_lag as lag,
  queue_ticker_paused as paused,
  ev_new,
  last_tick_id`;

export const queueCommands: QadminCommand[] = [
  {
    grammar: seq('create queue', slot('queue', 'queue')),
    help: ['create queue Q;', 'create a queue'],
    async run(session, { queue = '' }) {
      await requireSchema(session, 'pgq');
      const made = await session.value('select pgq.create_queue($1)', [queue]);
      return made === '1'
        ? `queue ${quoteName(queue)} created`
        : `queue ${quoteName(queue)} already exists`;
    },
  },
  {
    grammar: seq('drop queue', slot('queue', 'queue')),
    help: ['drop queue Q;', 'drop a queue (it must have no consumers)'],
    async run(session, { queue = '' }) {
      await requireQueue(session, queue);
      await session.value('select pgq.drop_queue($1)', [queue]);
      if (session.queue === queue) session.queue = null;
      return `queue ${quoteName(queue)} dropped`;
    },
  },
  {
    grammar: seq('alter queue', slot('queue', 'queue', true), 'set', rest('settings')),
    help: [
      "alter queue Q|* set idle_period='..', max_count=N, max_lag='..', paused=0|1;",
      'change ticker settings of one queue or all',
    ],
    async run(session, args) {
      const settings = parseSettings(args.settings ?? '');
      const queues = args.queue === '*' ? await allQueues(session) : [args.queue ?? ''];
      if (args.queue !== '*') await requireQueue(session, args.queue ?? '');
      await session.transaction(async () => {
        for (const queue of queues) {
          for (const [name, value] of settings) {
            await session.value('select pgq.set_queue_config($1, $2, $3)', [queue, name, value]);
          }
        }
      });
      return queues.map((queue) => `queue ${quoteName(queue)} altered`).join('\n');
    },
  },
  {
    grammar: seq('show queue', opt(slot('queue', 'queue', true))),
    help: ['show queue [Q|*];', 'queue settings and state (default: the current queue, or all)'],
    async run(session, args) {
      const queue = args.queue ?? session.queue ?? '*';
      if (queue === '*') {
        const result = await session.rows(
          `select ${queueColumns} from pgq.get_queue_info() order by 1`,
        );
        return formatTable(result, 'Queues');
      }
      await requireQueue(session, queue);
      const result = await session.rows(`select ${queueColumns} from pgq.get_queue_info($1)`, [
        queue,
      ]);
      return formatTable(result, `Queue ${quoteName(queue)}`);
    },
  },
];
