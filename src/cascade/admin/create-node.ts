/**
 * create-root, create-branch, create-leaf: make the local database a member of the cascade.
 * Upstream runs CREATE EXTENSION here; we run our installer (plain schemas, decisions.md).
 * All checks come before the first change, so refused input changes nothing; a failure
 * between changes undoes the provider-side registration, which would otherwise hold events
 * back on the provider forever.
 */
import type pg from 'pg';
import { installSchemas } from '../../db/installer.js';
import { CascadeError, getLocations, getNodeInfo, type NodeInfo } from '../node-calls.js';
import { connectNode } from '../node-connection.js';
import { checkPublicLocation, warnIfNoHost } from './location-check.js';
import type { AdminSession } from './session.js';

export interface CreateNodeOptions {
  name: string;
  /** Public connect string other members use to reach this node. */
  location: string;
  worker: string;
  /** Skip the check that `location` reaches the local database (`--nocheck`). */
  nocheck?: boolean;
  extraConnstr?: string;
}

export interface CreateSubscriberOptions extends CreateNodeOptions {
  type: 'branch' | 'leaf';
  /** Connect string of the provider. */
  provider: string;
  /** `--merge QUEUE`: a leaf's combined queue in the local database. */
  merge?: string;
  /** `--sync-watermark n1,n2`: branches whose watermark this one follows. */
  syncWatermark?: string[];
}

export async function createRoot(session: AdminSession, options: CreateNodeOptions) {
  const local = await session.local();
  await prepareLocal(session, local, options);
  await session.hooks.beforeCreateNode?.(session, {
    name: options.name,
    type: 'root',
    location: options.location,
    provider: null,
  });
  await session.change(
    options.name,
    local,
    'select * from pgq_node.register_location($1, $2, $3, false)',
    [session.queue, options.name, options.location],
  );
  await session.change(
    options.name,
    local,
    `select * from pgq_node.create_node($1, 'root', $2, $3, null, null, null)`,
    [session.queue, options.name, options.worker],
  );
  await session.hooks.afterCreateNode?.(session, {
    name: options.name,
    type: 'root',
    location: options.location,
    provider: null,
  });
  done(session, options.name, 'root');
}

export async function createSubscriber(session: AdminSession, options: CreateSubscriberOptions) {
  const { queue } = session;
  const { name, type } = options;
  const ctx = { queue, node: name };
  if (options.merge !== undefined && type !== 'leaf') {
    throw new CascadeError('BAD_OPTION', '--merge is only for create-leaf', ctx);
  }
  if (options.syncWatermark !== undefined && type !== 'branch') {
    throw new CascadeError('BAD_OPTION', '--sync-watermark is only for create-branch', ctx);
  }
  const provider = await connectNode(
    options.provider,
    { queue, node: 'provider' },
    { extraConnstr: options.extraConnstr, applicationName: `skytools set ${queue}` },
  );
  try {
    const providerInfo = await memberInfo(provider, queue, 'provider', options.provider);
    if (providerInfo.node_type === 'leaf') {
      throw new CascadeError(
        'PROVIDER_IS_LEAF',
        `provider ${providerInfo.node_name} is a leaf of queue ${queue}; only a root or branch can be a provider`,
        ctx,
      );
    }
    const providerName = providerInfo.node_name as string;
    const members = await getLocations(provider, queue);
    if (members.some((m) => m.node_name === name)) {
      throw new CascadeError(
        'NODE_EXISTS',
        `node ${name} already exists in queue ${queue} (members: ${members.map((m) => m.node_name).join(', ')})`,
        ctx,
      );
    }
    const root = await findRoot(session, provider, providerInfo, options.extraConnstr);
    try {
      const local = await session.local();
      if (options.merge !== undefined) await checkMergeQueue(local, options.merge, ctx);
      await prepareLocal(session, local, options);
      await session.hooks.beforeCreateNode?.(session, {
        name,
        type,
        location: options.location,
        provider: options.provider,
      });
      await subscribe(session, local, provider, providerName, root, options);
    } finally {
      if (root.db !== provider) await root.db.end().catch(() => {});
    }
  } finally {
    await provider.end().catch(() => {});
  }
  await session.hooks.afterCreateNode?.(session, {
    name,
    type,
    location: options.location,
    provider: options.provider,
  });
  done(session, name, type);
}

async function subscribe(
  session: AdminSession,
  local: pg.Client,
  provider: pg.Client,
  providerName: string,
  root: { name: string; db: pg.Client },
  options: CreateSubscriberOptions,
) {
  const { queue } = session;
  const { name } = options;
  const registerLocation = 'select * from pgq_node.register_location($1, $2, $3, false)';
  // The root announces the location to every member through a pgq.location-info event.
  if (root.db !== provider) {
    await session.change(root.name, root.db, registerLocation, [queue, name, options.location]);
  }
  await session.change(providerName, provider, registerLocation, [queue, name, options.location]);
  const sub = await session.change<{
    ret_code: number;
    ret_note: string;
    global_watermark: string;
  }>(providerName, provider, 'select * from pgq_node.register_subscriber($1, $2, $3, null)', [
    queue,
    name,
    options.worker,
  ]);
  try {
    for (const member of await getLocations(provider, queue)) {
      if (session.dryRun && member.node_name === name) continue;
      await session.change(
        name,
        local,
        'select * from pgq_node.register_location($1, $2, $3, $4)',
        [queue, member.node_name, member.node_location, member.dead],
      );
    }
    if (session.dryRun) {
      await session.change(name, local, registerLocation, [queue, name, options.location]);
    }
    await session.change(
      name,
      local,
      'select * from pgq_node.create_node($1, $2, $3, $4, $5, $6, $7)',
      [
        queue,
        options.type,
        name,
        options.worker,
        providerName,
        sub?.global_watermark ?? '<global watermark from register_subscriber>',
        options.merge ?? null,
      ],
    );
    if (options.syncWatermark !== undefined) {
      const attrs = new URLSearchParams({ sync_watermark: options.syncWatermark.join(',') });
      await session.change(name, local, 'select * from pgq_node.set_node_attrs($1, $2)', [
        queue,
        attrs.toString(),
      ]);
    }
  } catch (error) {
    if (!session.dryRun) {
      session.out.warn(`creating node ${name} failed; unregistering it from ${providerName}`);
      await session
        .change(providerName, provider, 'select * from pgq_node.unregister_subscriber($1, $2)', [
          queue,
          name,
        ])
        .catch(() => {});
    }
    throw error;
  }
}

/** Install what is missing, refuse a second node, and check the public location. */
async function prepareLocal(session: AdminSession, local: pg.Client, options: CreateNodeOptions) {
  const { queue } = session;
  const ctx = { queue, node: options.name };
  const missing = await missingSchemas(local);
  if (missing.length === 0) {
    const info = await local.query<NodeInfo>('select * from pgq_node.get_node_info($1)', [queue]);
    const row = info.rows[0];
    if (row !== undefined && row.ret_code < 400) {
      throw new CascadeError(
        'NODE_EXISTS',
        `Node already initialized: the local database is node ${row.node_name} (${row.node_type}) of queue ${queue}`,
        ctx,
      );
    }
  }
  if (!options.nocheck) {
    await checkPublicLocation(session, local, options.name, options.location, options.extraConnstr);
  }
  warnIfNoHost(session, options.name, options.location);
  if (missing.length > 0) {
    if (session.dryRun) {
      session.out.print(`[dry-run] on ${options.name}: install schemas ${missing.join(', ')}`);
    } else {
      for (const result of await installSchemas(local, missing)) {
        session.out.info(`${options.name}: installed schema ${result.schema} ${result.current}`);
      }
    }
  }
}

async function missingSchemas(db: pg.Client): Promise<string[]> {
  const { rows } = await db.query<{ pgq: boolean; pgq_node: boolean }>(
    `select to_regprocedure('pgq.version()') is not null as pgq,` +
      ` to_regprocedure('pgq_node.version()') is not null as pgq_node`,
  );
  const row = rows[0];
  return (['pgq', 'pgq_node'] as const).filter((schema) => row?.[schema] !== true);
}

async function memberInfo(db: pg.Client, queue: string, what: string, location: string) {
  const missing = await missingSchemas(db);
  if (missing.includes('pgq_node')) {
    throw new CascadeError(
      'NOT_A_NODE',
      `${what} (${location}) has no pgq_node schema: it is no node of queue ${queue}`,
      { queue },
    );
  }
  const info = await getNodeInfo(db, queue).catch((error: unknown) => {
    throw new CascadeError(
      'NOT_A_NODE',
      `${what} (${location}) is no node of queue ${queue}: ${(error as Error).message}`,
      { queue },
      { cause: error },
    );
  });
  return info;
}

/** Follow provider_location upwards to the root (upstream's find_root_db). */
async function findRoot(
  session: AdminSession,
  provider: pg.Client,
  providerInfo: NodeInfo,
  extraConnstr: string | undefined,
): Promise<{ name: string; db: pg.Client }> {
  let info = providerInfo;
  let db = provider;
  const seen = new Set<string>();
  while (info.node_type !== 'root') {
    const next = info.provider_node as string;
    if (seen.has(next) || seen.size > 100) {
      throw new CascadeError(
        'PROVIDER_LOOP',
        `providers of queue ${session.queue} form a loop at ${next}`,
        {
          queue: session.queue,
          node: next,
        },
      );
    }
    seen.add(next);
    const location = info.provider_location as string;
    const up = await connectNode(location, { queue: session.queue, node: next }, { extraConnstr });
    if (db !== provider) await db.end().catch(() => {});
    db = up;
    try {
      info = await getNodeInfo(db, session.queue);
    } catch (error) {
      await db.end().catch(() => {});
      throw error;
    }
  }
  return { name: info.node_name as string, db };
}

async function checkMergeQueue(
  local: pg.Client,
  merge: string,
  ctx: { queue: string; node: string },
) {
  const { rows } = await local
    .query(
      `select 1 from pgq_node.node_info where queue_name = $1 and node_type in ('root', 'branch')`,
      [merge],
    )
    .catch(() => ({ rows: [] }));
  if (rows.length === 0) {
    throw new CascadeError(
      'UNKNOWN_QUEUE',
      `--merge queue ${merge} is no root or branch queue in the local database`,
      { ...ctx, merge },
    );
  }
}

function done(session: AdminSession, name: string, type: string) {
  if (!session.dryRun)
    session.out.print(`node ${name} created as ${type} of queue ${session.queue}`);
}
