/**
 * Producers for the takeover tests: each inserts (ids from the table's sequence), updates and
 * deletes its own rows and burns sequence values, one transaction per change, on whichever
 * node is the root. Each statement writes only while its node is the root (a share lock on
 * the node's node_info row, so a demotion waits for it): a statement that finds its node no
 * longer root, or refused by a queue that no longer takes inserts, moves the producer on to
 * the next candidate, as an application moves its writes. Every change is journaled with its
 * node, transaction id and the row it left, so a test can say what a node must hold.
 */
import pg from 'pg';
import type { LNode } from '../londiste-worker/helpers.js';

export interface JournalEntry {
  /** The node it was written on. */
  node: string;
  txid: string;
  table: string;
  kind: 'insert' | 'update' | 'delete' | 'burn';
  /** The row's id; for a burn, the last sequence value taken. */
  id: string;
  /** The row after the change; null once deleted or for a burn. */
  row: Record<string, unknown> | null;
}

export type Journal = JournalEntry[];

export async function nodeType(node: LNode, queue: string): Promise<string> {
  const { rows } = await node.db.query('select node_type from pgq_node.get_node_info($1)', [queue]);
  return rows[0].node_type;
}

const rootGuard = `with r as (select 1 from pgq_node.node_info
                               where queue_name = $1 and node_type = 'root' for share)`;

function statement(kind: JournalEntry['kind'], table: string): string {
  switch (kind) {
    case 'insert':
      return `${rootGuard} insert into ${table} (v) select md5(random()::text) from r
              returning *, txid_current()::text as txid`;
    case 'update':
      return `${rootGuard} update ${table} t set v = md5(random()::text), n = n + 1 from r
              where t.id = $2 returning t.*, txid_current()::text as txid`;
    case 'delete':
      return `${rootGuard} delete from ${table} t using r where t.id = $2
              returning t.id, txid_current()::text as txid`;
    case 'burn':
      return `${rootGuard} select max(nextval('${table}_ids'))::text as id,
              txid_current()::text as txid from r, generate_series(1, 20) having count(*) > 0`;
  }
}

export interface Writers {
  /** Failures other than "not the root" (none expected). */
  readonly errors: string[];
  /** Stop writing after the change in hand; resume() goes on. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** From now on write only on `node`. */
  follow(node: LNode): void;
  /** Wait until `n` more changes are committed on `node`. */
  waitWrites(node: LNode, n: number): Promise<void>;
  stop(): Promise<void>;
}

export function startWriters(
  candidates: LNode[],
  queue: string,
  tables: readonly string[],
  journal: Journal,
  count: number,
): Writers {
  let nodes = [...candidates];
  let current = nodes[0] as LNode;
  let paused = false;
  let stopped = false;
  let busy = 0;
  const errors: string[] = [];

  const loop = async (sessions: Map<string, pg.Client>) => {
    const mine = new Map<string, string[]>(tables.map((t) => [t, []]));
    while (!stopped) {
      if (paused) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      busy++;
      try {
        await writeOne(mine, sessions);
      } finally {
        busy--;
      }
      await new Promise((r) => setTimeout(r, 3));
    }
  };

  const writeOne = async (mine: Map<string, string[]>, sessions: Map<string, pg.Client>) => {
    const table = tables[Math.floor(Math.random() * tables.length)] as string;
    const ids = mine.get(table) as string[];
    const roll = Math.random();
    const kind: JournalEntry['kind'] =
      ids.length < 5 || roll < 0.4
        ? 'insert'
        : roll < 0.7
          ? 'update'
          : roll < 0.85
            ? 'delete'
            : 'burn';
    const at = Math.floor(Math.random() * ids.length);
    const node = current;
    const values: unknown[] = kind === 'update' || kind === 'delete' ? [queue, ids[at]] : [queue];
    let rows: Record<string, unknown>[];
    try {
      const session = sessions.get(node.name);
      if (session === undefined) throw new Error(`no session to ${node.name}`);
      ({ rows } = await session.query(statement(kind, table), values));
    } catch (error) {
      const e = error as { hint?: string; message?: string };
      if (/queue_disable_insert/.test(e.hint ?? '')) return moveOn(node);
      if (!stopped) errors.push(`${node.name} ${kind} ${table}: ${e.message}`);
      return;
    }
    const row = rows[0];
    if (row === undefined) return moveOn(node);
    const { txid, ...data } = row;
    const id = String(data.id);
    journal.push({
      node: node.name,
      txid: txid as string,
      table,
      kind,
      id,
      row: kind === 'insert' || kind === 'update' ? data : null,
    });
    if (kind === 'insert') ids.push(id);
    if (kind === 'delete') ids.splice(at, 1);
  };

  const moveOn = (from: LNode) => {
    if (current !== from) return;
    const i = nodes.indexOf(from);
    current = nodes[(i + 1) % nodes.length] as LNode;
  };

  // One session per producer and node: each producer's changes are its own transactions.
  const all: pg.Client[] = [];
  const connectAll = async () => {
    const sessions = new Map<string, pg.Client>();
    for (const node of nodes) {
      const client = new pg.Client(node.config);
      client.on('error', () => {});
      all.push(client);
      await client.connect();
      sessions.set(node.name, client);
    }
    return sessions;
  };
  const ready = Promise.all(Array.from({ length: count }, () => connectAll()));
  const loops = ready.then((each) => Promise.all(each.map((sessions) => loop(sessions))));
  loops.catch((error) => errors.push(String(error)));

  const waitIdle = async () => {
    while (busy > 0) await new Promise((r) => setTimeout(r, 5));
  };

  return {
    errors,
    async pause() {
      paused = true;
      await ready;
      await waitIdle();
    },
    async resume() {
      paused = false;
    },
    follow(node) {
      nodes = [node];
      current = node;
    },
    async waitWrites(node, n) {
      const start = journal.filter((e) => e.node === node.name).length;
      const deadline = Date.now() + 120_000;
      while (journal.filter((e) => e.node === node.name).length < start + n) {
        if (Date.now() > deadline) {
          throw new Error(`${n} writes on ${node.name} not made; errors: ${errors.join('; ')}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      stopped = true;
      await loops.catch(() => {});
      await ready.catch(() => {});
      await Promise.all(all.splice(0).map((s) => s.end().catch(() => {})));
    },
  };
}

/**
 * Per table, the largest id (or sequence value) `node` handed out in `journal`, and the
 * smallest one handed out on `node` from entry `from` on.
 */
export function handedOut(journal: Journal, node: string, from = 0) {
  const max = new Map<string, bigint>();
  const min = new Map<string, bigint>();
  for (const [i, e] of journal.entries()) {
    if (e.node !== node || (e.kind !== 'insert' && e.kind !== 'burn')) continue;
    const id = BigInt(e.id);
    if (id > (max.get(e.table) ?? 0n)) max.set(e.table, id);
    if (i >= from && (min.get(e.table) === undefined || id < (min.get(e.table) as bigint))) {
      min.set(e.table, id);
    }
  }
  return { max, min };
}
