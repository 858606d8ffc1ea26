import type pg from 'pg';
import { createPublication, dropSubscription, type NativeReplication } from './native.js';
import type { ReplicationPair } from './replication-pair.js';
import { digest, rowTableDdl } from './row-load.js';

// Both sides of a replication workload: clients on the source and the target, the loaders
// that write the source's transactions, the native publication, the tables made fresh.

/** Source clients writing the load at once (each one round trip per transaction). */
export const defaultLoaders = 4;

export interface Sides {
  pair: ReplicationPair;
  source: pg.Client;
  target: pg.Client;
  loaders: pg.Client[];
  native: NativeReplication;
  close(): Promise<void>;
}

/** Clients on both servers and the native publication of `nativeTables`. */
export async function openSides(
  pair: ReplicationPair,
  nativeTables: readonly string[],
  londisteTables: readonly string[],
  loaders = defaultLoaders,
): Promise<Sides> {
  const source = await pair.source.connect();
  const target = await pair.target.connect();
  const clients: pg.Client[] = [];
  for (let i = 0; i < loaders; i++) clients.push(await pair.source.connect());
  const native: NativeReplication = {
    source,
    target,
    sourceLocation: pair.source.location,
    publication: 'bench_native',
    subscription: 'bench_native',
  };
  await dropSubscription(native);
  for (const table of [...nativeTables, ...londisteTables]) {
    await source.query(rowTableDdl(table));
    await target.query(rowTableDdl(table));
  }
  await createPublication(source, native.publication, nativeTables);
  return {
    pair,
    source,
    target,
    loaders: clients,
    native,
    close: async () => {
      await dropSubscription(native);
      for (const client of [...clients, source, target]) await client.end();
    },
  };
}

/** Fails naming the table when source and target differ. */
export async function checkSame(sides: Sides, table: string): Promise<void> {
  const [a, b] = [await digest(sides.source, table), await digest(sides.target, table)];
  if (a !== b) throw new Error(`bench: ${table} differs: source ${a}, target ${b}`);
}
