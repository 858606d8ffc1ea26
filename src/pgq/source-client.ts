import type { Queryable } from '../db/queryable.js';
import { openConsumerClient } from './consumer-connection.js';
import type { ResolvedOptions } from './consumer-options.js';

/** A short connection to the queue's database, for register/unregister/rewind helpers. */
export async function withSourceClient<T>(
  options: ResolvedOptions,
  fn: (db: Queryable) => Promise<T>,
): Promise<T> {
  const client = await openConsumerClient(options.connection, options.applicationName, () => {});
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}
