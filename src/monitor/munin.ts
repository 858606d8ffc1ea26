/**
 * The Munin plugin (Munin's plugin protocol): `autoconf`, `suggest`, `config` and fetch, as
 * multigraph output. Per queue three graphs (events/s, lag, pending) with one field per
 * consumer, and per consumer a subgraph of the lag graph. Run as `pgq_<queue>` (a symlink)
 * it covers that queue only. Names are made safe for Munin (`[A-Za-z0-9_]`), with a suffix
 * when two names would collide.
 */
import { Monitor } from './monitor.js';
import type { ConsumerSample, DatabaseSnapshot, QueueSample } from './snapshot.js';

export type MuninMode = 'config' | 'fetch';

/** Munin's own placeholder: a DERIVE field is drawn as a rate per this period. */
const graphPeriod = '$' + '{graph_period}';

/** A field or graph name Munin accepts: letters, digits, `_`, not starting with a digit. */
export function muninName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(safe) ? safe : `_${safe}`;
}

/** Unique safe names for `names`, in order. */
function uniqueNames(names: readonly string[], taken: Set<string> = new Set()): string[] {
  return names.map((name) => {
    const base = muninName(name);
    let candidate = base;
    for (let n = 2; taken.has(candidate); n++) candidate = `${base}_${n}`;
    taken.add(candidate);
    return candidate;
  });
}

/** A label Munin prints as is: one line, no backslash escapes. */
function label(text: string): string {
  return text.replace(/[\r\n\\]/g, ' ');
}

function value(v: number | null): string {
  return v === null || !Number.isFinite(v) ? 'U' : String(v);
}

/** The queue name a plugin name stands for: `pgq_<queue>`; null for `pgq` or any other name. */
export function queueOfPluginName(pluginName: string): string | null {
  return pluginName.startsWith('pgq_') && pluginName.length > 4 ? pluginName.slice(4) : null;
}

/** `suggest`: the queues whose name can be a plugin's file name (`pgq_<queue>`). */
export function muninSuggest(db: DatabaseSnapshot): string[] {
  return db.queues.map((q) => q.queue).filter((q) => /^[A-Za-z0-9_.-]+$/.test(q));
}

/** `autoconf`: `yes`, or `no (why)`. */
export function muninAutoconf(db: DatabaseSnapshot): string {
  if (!db.up) return `no (cannot read the database: ${label(db.error ?? 'unknown error')})`;
  if (db.queues.length === 0) return 'no (no PgQ queues in this database)';
  return 'yes';
}

/** The lines of `config` or fetch for the queues of `db` (all, or the one `queue` names). */
export function muninLines(db: DatabaseSnapshot, mode: MuninMode, queue?: string): string[] {
  const queues = queue === undefined ? db.queues : db.queues.filter((q) => q.queue === queue);
  const graphNames = uniqueNames(queues.map((q) => `pgq_${q.queue}`));
  const lines: string[] = [];
  queues.forEach((q, i) => {
    const consumers = db.consumers.filter((c) => c.queue === q.queue && c.lagSeconds !== null);
    const fields = uniqueNames(
      consumers.map((c) => c.consumer),
      new Set(['events', 'tick_age', 'new_events']),
    );
    lines.push(...queueGraphs(graphNames[i] as string, q, consumers, fields, mode));
  });
  return lines;
}

function queueGraphs(
  graph: string,
  q: QueueSample,
  consumers: readonly ConsumerSample[],
  fields: readonly string[],
  mode: MuninMode,
): string[] {
  const out: string[] = [];
  const config = mode === 'config';
  const title = `PgQ queue ${label(q.queue)}`;
  const head = (name: string, what: string, vlabel: string, args = '--base 1000 -l 0') => {
    out.push(`multigraph ${name}`);
    if (config) {
      out.push(`graph_title ${title}: ${what}`, `graph_vlabel ${vlabel}`);
      out.push('graph_category pgq', `graph_args ${args}`);
    }
  };
  const field = (name: string, v: number | null, settings: Record<string, string>) => {
    if (!config) {
      out.push(`${name}.value ${value(v)}`);
      return;
    }
    for (const [key, text] of Object.entries(settings)) out.push(`${name}.${key} ${text}`);
  };
  const derive = (text: string) => ({ label: text, type: 'DERIVE', min: '0' });

  head(`${graph}_events`, 'events', `events per ${graphPeriod}`);
  if (config) out.push('graph_info Events inserted into the queue, and finished by each consumer');
  field('events', q.eventsTotal, derive('inserted'));
  consumers.forEach((c, i) => {
    field(fields[i] as string, c.eventsTotal, derive(`finished by ${label(c.consumer)}`));
  });

  head(`${graph}_lag`, 'lag', 'seconds');
  field('tick_age', q.tickAgeSeconds, { label: 'time since the last tick' });
  consumers.forEach((c, i) => {
    field(fields[i] as string, c.lagSeconds, { label: `lag of ${label(c.consumer)}` });
  });

  head(`${graph}_pending`, 'pending events', 'events');
  field('new_events', q.pendingEvents, { label: 'not yet in a tick' });
  consumers.forEach((c, i) => {
    field(fields[i] as string, c.pendingEvents, { label: `pending for ${label(c.consumer)}` });
  });

  consumers.forEach((c, i) => {
    out.push(`multigraph ${graph}_lag.${fields[i]}`);
    if (config) {
      out.push(`graph_title ${title}: consumer ${label(c.consumer)}`, 'graph_vlabel seconds');
      out.push('graph_category pgq', 'graph_args --base 1000 -l 0');
    }
    field('lag', c.lagSeconds, { label: 'lag' });
    field('last_seen', c.lastSeenSeconds, { label: 'time since it last asked for a batch' });
    field('pending', c.pendingEvents, { label: 'pending events' });
    field('retry', c.retryEvents, { label: 'events in the retry queue' });
  });
  return out;
}

export interface MuninResult {
  code: number;
  stdout: string;
  stderr: string;
}

const modes = ['autoconf', 'suggest', 'config', 'fetch'];

/**
 * One plugin run: `mode` on database `db` (a connect string; undefined or empty = the libpq
 * environment), narrowed to `queue` when given. Munin's rules: autoconf always exits 0.
 */
export async function muninRun(
  mode: string,
  db: string | undefined,
  queue?: string,
): Promise<MuninResult> {
  const fail = (message: string): MuninResult => ({
    code: 1,
    stdout: '',
    stderr: `skytools munin: ${message}\n`,
  });
  if (!modes.includes(mode)) {
    return fail(`unknown mode "${mode}"; one of: ${modes.join(', ')}`);
  }
  let monitor: Monitor;
  try {
    monitor = new Monitor(db === undefined || db === '' ? [] : [db]);
  } catch (error) {
    return fail((error as Error).message);
  }
  try {
    const snapshot = (await monitor.snapshot()).databases[0] as DatabaseSnapshot;
    if (mode === 'autoconf') return { code: 0, stdout: `${muninAutoconf(snapshot)}\n`, stderr: '' };
    if (!snapshot.up) return fail(`cannot read ${snapshot.database}: ${snapshot.error}`);
    if (mode === 'suggest') {
      return {
        code: 0,
        stdout: muninSuggest(snapshot)
          .map((q) => `${q}\n`)
          .join(''),
        stderr: '',
      };
    }
    if (queue !== undefined && !snapshot.queues.some((q) => q.queue === queue)) {
      return fail(`no queue ${JSON.stringify(queue)} in database ${snapshot.database}`);
    }
    const lines = muninLines(snapshot, mode === 'config' ? 'config' : 'fetch', queue);
    return { code: 0, stdout: lines.map((line) => `${line}\n`).join(''), stderr: '' };
  } finally {
    await monitor.close();
  }
}
