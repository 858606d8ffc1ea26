/**
 * A failed loop is written to the consumer's cur_error on its node, where `status` and
 * `node-info` show it; a later successful loop clears it. Recording must never hide the
 * error it records, so its own failure is only logged.
 */
import type { Logger } from '../pgq/logger.js';
import { setErrorSql } from './cascade-sql.js';
import type { LocalNode } from './local-node.js';

export async function recordError(
  local: LocalNode,
  queue: string,
  consumer: string | null,
  error: unknown,
  log: Logger,
): Promise<void> {
  if (consumer === null) return;
  const message = error === null ? null : errorText(error);
  try {
    await local.withSession((client) => client.query(setErrorSql, [queue, consumer, message]));
  } catch (failure) {
    log.warn({ err: failure, consumer }, 'could not record the error on the node');
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
