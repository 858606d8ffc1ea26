/**
 * `resurrect` (§2.5), run on a former root after a failover, once its server is back: it
 * rejoins the cascade as a branch of the node that holds its gravestone (normally the new
 * root), from the gravestone tick. What it had committed after that tick never reached the
 * cascade: those events are dumped to a JSON file for the operator and deleted, so the node
 * can copy the new root's history from the fork point. Its worker is left paused, so the
 * operator can look at the dump before anything runs.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { quoteLiteral } from '../../db/quote.js';
import { CascadeError, getLocations } from '../node-calls.js';
import { dumpAndDeleteLost } from './resurrect-dump.js';
import { consumerPositionSql, consumersSql, tickExistsSql } from './resurrect-sql.js';
import type { AdminSession } from './session.js';
import { gravestoneName } from './takeover-failover.js';
import { demoteStep } from './takeover-node-steps.js';
import { memberInfo } from './takeover-state.js';
import { runSteps, type Step, setadm, sqlOn } from './takeover-steps.js';
import { registerSubscriberAt } from './takeover-subscribe.js';

export const DEFAULT_DUMP_FILE = 'resurrect-lost-events.json';

export async function resurrect(
  session: AdminSession,
  options: { dumpFile?: string },
): Promise<void> {
  const queue = session.queue;
  const db = await session.local();
  const info = await session.localInfo(true);
  const self = info.node_name ?? '';
  const worker = info.worker_name ?? '';
  const context = { queue, node: self };
  if (info.node_type === 'leaf') {
    throw new CascadeError(
      'LEAF_RESURRECT',
      `node ${self} is a leaf of queue ${queue}: it has no queue of its own to resurrect`,
      context,
    );
  }
  const file = path.resolve(options.dumpFile ?? DEFAULT_DUMP_FILE);
  if (existsSync(file)) {
    throw new CascadeError(
      'DUMP_EXISTS',
      `dump file ${file} exists (an earlier resurrect?); move it away or name another with the dump file option; nothing changed`,
      context,
    );
  }
  checkWritable(file, context);
  const grave = await findGravestone(session, self);
  const provider = grave.node;
  const [queueRow] = await session.read<{ queue_id: number }>(
    db,
    'select queue_id from pgq.queue where queue_name = $1',
    [queue],
  );
  const forkTick = await session.read(db, tickExistsSql, [queueRow?.queue_id ?? null, grave.tick]);
  if (forkTick.length === 0) {
    throw new CascadeError(
      'FORK_TICK_MISSING',
      `tick ${grave.tick} of the gravestone on ${provider} is not in the queue of ${self}: its history was cleaned up past the fork point, so what was lost cannot be told apart; drop the node and create it again; nothing changed`,
      { ...context, tick: grave.tick },
    );
  }
  session.out.info(
    `found gravestone ${gravestoneName(self)} on ${provider} at tick ${grave.tick}; ${self} rejoins as a branch of ${provider}`,
  );
  const subscribers = await session.read<{ node_name: string; worker_name: string }>(
    db,
    'select node_name, worker_name from pgq_node.get_subscriber_info($1)',
    [queue],
  );
  // Subscribers' workers go with their subscriptions; what is left without a dot is a plain
  // consumer of the old root, whose position in the forked history means nothing now.
  const plainConsumers = (await session.read<{ consumer_name: string }>(db, consumersSql, [queue]))
    .map((c) => c.consumer_name)
    .filter((name) => !name.startsWith('.') && !subscribers.some((s) => name === s.worker_name));

  const steps: Step[] = [
    {
      title: `pause the worker of ${self}`,
      run: async () => {
        await session.change(self, db, 'select * from pgq_node.set_consumer_paused($1, $2, true)', [
          queue,
          worker,
        ]);
      },
      manual: () => sqlOn(self, 'pgq_node.set_consumer_paused', [queue, worker, 'true']),
    },
  ];
  if (info.node_type === 'root') {
    for (const step of [1, 2, 3] as const) {
      steps.push(demoteStep(session, self, db, step, provider, `demote ${self}, step ${step}`));
    }
  }
  for (const sub of subscribers) {
    steps.push({
      title: `drop old subscriber ${sub.node_name} of ${self}`,
      run: async () => {
        await session.change(self, db, 'select * from pgq_node.unregister_subscriber($1, $2)', [
          queue,
          sub.node_name,
        ]);
      },
      manual: () => sqlOn(self, 'pgq_node.unregister_subscriber', [queue, sub.node_name]),
    });
  }
  for (const consumer of plainConsumers) {
    steps.push({
      title: `drop consumer ${consumer} of ${self}`,
      run: async () => {
        await session.execute(self, db, 'select pgq.unregister_consumer($1, $2)', [
          queue,
          consumer,
        ]);
      },
      manual: () =>
        `on node ${self}: select pgq.unregister_consumer(${quoteLiteral(queue)}, ${quoteLiteral(consumer)});`,
    });
  }
  steps.push(
    {
      title: `dump the events after tick ${grave.tick} to ${file} and delete them`,
      run: async () => {
        await dumpAndDeleteLost(session, self, db, grave.tick, file);
      },
      // A failed dump step keeps nothing (no deletes, no file), and the earlier steps are
      // safe to repeat: resurrect itself is the way to go on.
      manual: () => setadm(`resurrect --dump-file ${file}`),
    },
    {
      title: `set the worker of ${self} to tick ${grave.tick}`,
      run: async () => {
        await session.change(
          self,
          db,
          'select * from pgq_node.set_consumer_completed($1, $2, $3)',
          [queue, worker, grave.tick],
        );
      },
      manual: () => sqlOn(self, 'pgq_node.set_consumer_completed', [queue, worker, grave.tick]),
    },
    {
      title: `turn gravestone ${gravestoneName(self)} on ${provider} into ${self}'s subscription`,
      run: () => renameGravestone(session, provider, self, worker, grave.tick),
      manual: () =>
        `${sqlOn(provider, 'pgq_node.unregister_subscriber', [queue, self])} then ${sqlOn(provider, 'pgq_node.register_subscriber', [queue, self, worker, grave.tick])}`,
    },
    {
      title: `import the global watermark of ${provider}`,
      run: async () => {
        const wm = (await memberInfo(session, provider)).global_watermark;
        if (wm === null) return;
        await session.change(self, db, 'select * from pgq_node.set_global_watermark($1, $2)', [
          queue,
          wm,
        ]);
      },
    },
  );
  await runSteps(session, `resurrect ${self}`, steps);
  session.out.info(
    `${self} is a branch of ${provider} again; its worker is paused. Check ${file}, then resume it: ${setadm(`resume --node ${self}`)}`,
  );
}

/** The dump's folder must take the file: found out before anything changes, not after. */
function checkWritable(file: string, context: { queue: string; node: string }): void {
  try {
    accessSync(path.dirname(file), constants.W_OK);
  } catch (error) {
    throw new CascadeError(
      'DUMP_NOT_WRITABLE',
      `cannot write the dump file ${file}: ${(error as Error).message}; nothing changed`,
      context,
      { cause: error },
    );
  }
}

/** Where `<self>.gravestone` is: the first live member whose queue has that consumer. */
async function findGravestone(
  session: AdminSession,
  self: string,
): Promise<{ node: string; tick: string }> {
  const members = await getLocations(await session.local(), session.queue);
  const gravestone = gravestoneName(self);
  const tried: string[] = [];
  for (const member of members) {
    if (member.node_name === self || session.dead.has(member.node_name)) continue;
    tried.push(member.node_name);
    try {
      const rows = await session.read<{ last_tick: string | null }>(
        await session.db(member.node_name),
        consumerPositionSql,
        [session.queue, gravestone],
      );
      const tick = rows[0]?.last_tick;
      if (tick) return { node: member.node_name, tick };
    } catch (error) {
      session.out.warn(`node ${member.node_name} skipped: ${(error as Error).message}`);
    }
  }
  throw new CascadeError(
    'NO_GRAVESTONE',
    `no member has consumer ${gravestone} (tried: ${tried.join(', ') || 'none'}); resurrect is for a root that another node took over with takeover --dead-root`,
    { queue: session.queue, node: self },
  );
}

/**
 * On the provider, in one transaction: drop the gravestone registration and subscribe the
 * node's worker at the gravestone's tick, so nothing between holds that tick unguarded.
 */
async function renameGravestone(
  session: AdminSession,
  provider: string,
  self: string,
  worker: string,
  tick: string,
): Promise<void> {
  const queue = session.queue;
  const db = await session.db(provider);
  if (!session.dryRun) await db.query('begin');
  try {
    await registerSubscriberAt(session, provider, db, self, worker, tick);
    const left = await session.read(db, consumerPositionSql, [queue, gravestoneName(self)]);
    if (left.length > 0) {
      await session.execute(provider, db, 'select pgq.unregister_consumer($1, $2)', [
        queue,
        gravestoneName(self),
      ]);
    }
    if (!session.dryRun) await db.query('commit');
  } catch (error) {
    if (!session.dryRun) await db.query('rollback').catch(() => {});
    throw error;
  }
}
