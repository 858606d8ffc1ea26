/**
 * What a qadmin command is: its grammar (for parsing and completion), its line in
 * `show help`, and what it does; plus the checks several commands share, so an unknown
 * queue or consumer is always the same clear line.
 */
import { SkytoolsError } from '../../errors.js';
import type { Bindings, Grammar } from '../grammar.js';
import type { QadminSession } from '../session.js';

export interface CommandOutput {
  /** Printed to stdout. */
  text: string;
  /** The console should end (`exit;`). */
  exit?: boolean;
}

export interface QadminCommand {
  grammar: Grammar;
  /** The syntax and one line of what it does, for `show help`. */
  help: [string, string];
  run(session: QadminSession, args: Bindings): Promise<CommandOutput | string>;
}

/** The queue named by the command, else the session's; none at all is an error. */
export function queueOf(session: QadminSession, args: Bindings): string {
  const queue = args.queue ?? session.queue;
  if (queue === undefined || queue === null) {
    throw new SkytoolsError(
      'USAGE',
      'no queue given: name one (on QUEUE) or choose one with "connect queue=QUEUE;" or -Q QUEUE',
    );
  }
  return queue;
}

export async function requireQueue(session: QadminSession, queue: string): Promise<void> {
  const found = await session.value(
    'select queue_name from pgq.get_queue_info($1) where queue_name is not null',
    [queue],
  );
  if (found === null) {
    throw new SkytoolsError('QUEUE_NOT_FOUND', `unknown queue: ${JSON.stringify(queue)}`, {
      queue,
    });
  }
}

export async function allQueues(session: QadminSession): Promise<string[]> {
  return session.list('select queue_name from pgq.get_queue_info() order by 1');
}

export async function requireConsumer(
  session: QadminSession,
  queue: string,
  consumer: string,
): Promise<void> {
  const found = await session.value('select consumer_name from pgq.get_consumer_info($1, $2)', [
    queue,
    consumer,
  ]);
  if (found === null) {
    throw new SkytoolsError(
      'CONSUMER_NOT_REGISTERED',
      `unknown consumer: ${JSON.stringify(consumer)} on queue ${JSON.stringify(queue)}`,
      { queue, consumer },
    );
  }
}

/** `schema` must be installed in the connected database. */
export async function requireSchema(session: QadminSession, schema: string): Promise<void> {
  const found = await session.value(
    "select pg_catalog.to_regprocedure(pg_catalog.quote_ident($1) || '.version()')::text",
    [schema],
  );
  if (found === null) {
    throw new SkytoolsError(
      'MISSING_DEPENDENCY',
      `schema ${schema} is not installed in database ${JSON.stringify(session.database)} (install ${schema};)`,
      { schema },
    );
  }
}

export const quoteName = (name: string) => JSON.stringify(name);
