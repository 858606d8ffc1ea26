/** Consumer commands: register / unregister (sub)consumers, show consumer, show batch. */
import { SkytoolsError } from '../../errors.js';
import { alt, flag, opt, seq, slot } from '../grammar.js';
import { formatTable } from '../table.js';
import {
  type QadminCommand,
  queueOf,
  quoteName,
  requireConsumer,
  requireQueue,
  requireSchema,
} from './command.js';

const consumerColumns =
  'queue_name, consumer_name, lag, last_seen, last_tick, current_batch, next_tick, pending_events';

const batchColumns =
  'batch_id, queue_name, consumer_name, batch_start, batch_end, prev_tick_id, tick_id, lag, seq_start, seq_end';

export const consumerCommands: QadminCommand[] = [
  {
    grammar: seq(
      'register consumer',
      slot('consumer', 'consumer'),
      opt('on', slot('queue', 'queue')),
      opt(alt(seq('at', slot('tick', 'number')), seq('copy', slot('other', 'consumer')))),
    ),
    help: [
      'register consumer C [on Q] [at TICK | copy OTHER_CONSUMER];',
      'register a consumer, at the latest tick, a given tick or where another consumer is',
    ],
    async run(session, args) {
      const queue = queueOf(session, args);
      const consumer = args.consumer ?? '';
      await requireQueue(session, queue);
      let tick = args.tick;
      if (args.other !== undefined) {
        await requireConsumer(session, queue, args.other);
        tick =
          (await session.value('select last_tick from pgq.get_consumer_info($1, $2)', [
            queue,
            args.other,
          ])) ?? undefined;
      }
      const done =
        tick === undefined
          ? await session.value('select pgq.register_consumer($1, $2)', [queue, consumer])
          : await session.value('select pgq.register_consumer_at($1, $2, $3)', [
              queue,
              consumer,
              tick,
            ]);
      const what = `consumer ${quoteName(consumer)} on queue ${quoteName(queue)}`;
      if (done !== '1') return `${what} was already registered`;
      return tick === undefined ? `registered ${what}` : `registered ${what} at tick ${tick}`;
    },
  },
  {
    grammar: seq(
      'unregister consumer',
      slot('consumer', 'consumer', true),
      opt('from', slot('queue', 'queue')),
    ),
    help: ['unregister consumer C|* [from Q];', 'unregister one consumer or all of a queue'],
    async run(session, args) {
      const queue = queueOf(session, args);
      await requireQueue(session, queue);
      let consumers: string[];
      if (args.consumer === '*') {
        consumers = await session.list(
          'select consumer_name from pgq.get_consumer_info($1) order by 1',
          [queue],
        );
      } else {
        await requireConsumer(session, queue, args.consumer ?? '');
        consumers = [args.consumer ?? ''];
      }
      await session.transaction(async () => {
        for (const consumer of consumers) {
          await session.value('select pgq.unregister_consumer($1, $2)', [queue, consumer]);
        }
      });
      if (consumers.length === 0) return `queue ${quoteName(queue)} has no consumers`;
      return consumers
        .map((c) => `unregistered consumer ${quoteName(c)} from queue ${quoteName(queue)}`)
        .join('\n');
    },
  },
  {
    grammar: seq(
      'register subconsumer',
      slot('subconsumer', 'subconsumer'),
      'for',
      slot('consumer', 'consumer'),
      opt('on', slot('queue', 'queue')),
    ),
    help: ['register subconsumer S for C [on Q];', 'join a subconsumer to a cooperative consumer'],
    async run(session, args) {
      const queue = queueOf(session, args);
      await requireSchema(session, 'pgq_coop');
      await requireQueue(session, queue);
      const done = await session.value('select pgq_coop.register_subconsumer($1, $2, $3)', [
        queue,
        args.consumer,
        args.subconsumer,
      ]);
      const what = `subconsumer ${quoteName(args.subconsumer ?? '')} for consumer ${quoteName(args.consumer ?? '')} on queue ${quoteName(queue)}`;
      return done === '1' ? `registered ${what}` : `${what} was already registered`;
    },
  },
  {
    grammar: seq(
      'unregister subconsumer',
      slot('subconsumer', 'subconsumer', true),
      'for',
      slot('consumer', 'consumer'),
      opt('from', slot('queue', 'queue')),
      opt(flag('close'), opt('batch')),
    ),
    help: [
      'unregister subconsumer S|* for C [from Q] [close batch];',
      'remove subconsumers; "close batch" drops an open batch instead of refusing',
    ],
    async run(session, args) {
      const queue = queueOf(session, args);
      const consumer = args.consumer ?? '';
      await requireSchema(session, 'pgq_coop');
      await requireQueue(session, queue);
      const prefix = `${consumer}.`;
      const known = (
        await session.list('select consumer_name from pgq.get_consumer_info($1) order by 1', [
          queue,
        ])
      )
        .filter((name) => name.startsWith(prefix))
        .map((name) => name.slice(prefix.length));
      const subs = args.subconsumer === '*' ? known : [args.subconsumer ?? ''];
      for (const sub of subs) {
        if (!known.includes(sub)) {
          throw new SkytoolsError(
            'CONSUMER_NOT_REGISTERED',
            `unknown subconsumer: ${quoteName(sub)} for consumer ${quoteName(consumer)} on queue ${quoteName(queue)}`,
            { queue, consumer, subconsumer: sub },
          );
        }
      }
      const close = args.close !== undefined ? 1 : 0;
      await session.transaction(async () => {
        for (const sub of subs) {
          await session.value('select pgq_coop.unregister_subconsumer($1, $2, $3, $4)', [
            queue,
            consumer,
            sub,
            close,
          ]);
        }
      });
      if (subs.length === 0) return `consumer ${quoteName(consumer)} has no subconsumers`;
      return subs
        .map(
          (sub) =>
            `unregistered subconsumer ${quoteName(sub)} for consumer ${quoteName(consumer)} from queue ${quoteName(queue)}`,
        )
        .join('\n');
    },
  },
  {
    grammar: seq(
      'show consumer',
      opt(slot('consumer', 'consumer', true), opt('on', slot('queue', 'queue'))),
    ),
    help: ['show consumer [C|* [on Q]];', 'consumer positions and lag'],
    async run(session, args) {
      const consumer = args.consumer ?? '*';
      const queue = args.queue ?? session.queue ?? '*';
      if (queue !== '*') await requireQueue(session, queue);
      if (consumer !== '*') {
        if (queue === '*') {
          const found = await session.rows(
            `select ${consumerColumns} from pgq.get_consumer_info() where consumer_name = $1 order by 1`,
            [consumer],
          );
          if (found.rows.length === 0) {
            throw new SkytoolsError(
              'CONSUMER_NOT_REGISTERED',
              `unknown consumer: ${quoteName(consumer)}`,
              { consumer },
            );
          }
          return formatTable(found, `Consumer ${quoteName(consumer)}`);
        }
        await requireConsumer(session, queue, consumer);
        const result = await session.rows(
          `select ${consumerColumns} from pgq.get_consumer_info($1, $2)`,
          [queue, consumer],
        );
        return formatTable(result, `Consumer ${quoteName(consumer)} on queue ${quoteName(queue)}`);
      }
      const result =
        queue === '*'
          ? await session.rows(
              `select ${consumerColumns} from pgq.get_consumer_info() order by 1, 2`,
            )
          : await session.rows(
              `select ${consumerColumns} from pgq.get_consumer_info($1) order by 2`,
              [queue],
            );
      return formatTable(
        result,
        queue === '*' ? 'Consumers' : `Consumers on queue ${quoteName(queue)}`,
      );
    },
  },
  {
    grammar: seq('show batch', slot('batch', 'batch'), opt('on', slot('queue', 'queue'))),
    help: [
      'show batch BATCH_ID|CONSUMER [on Q];',
      'a batch: by id, or the open batch of a consumer',
    ],
    async run(session, args) {
      let batch = args.batch ?? '';
      if (!/^\d+$/.test(batch)) {
        const queue = queueOf(session, args);
        await requireQueue(session, queue);
        await requireConsumer(session, queue, batch);
        const open = await session.value(
          'select current_batch from pgq.get_consumer_info($1, $2)',
          [queue, batch],
        );
        if (open === null) {
          return `consumer ${quoteName(batch)} on queue ${quoteName(queue)} has no open batch`;
        }
        batch = open;
      }
      const result = await session.rows(
        `select $1::int8 as ${batchColumns} from pgq.get_batch_info($1) where queue_name is not null`,
        [batch],
      );
      if (result.rows.length === 0) {
        throw new SkytoolsError('BATCH_NOT_OPEN', `unknown batch: ${batch} (not open)`, { batch });
      }
      return formatTable(result, `Batch ${batch}`);
    },
  },
];
