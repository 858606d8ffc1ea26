/**
 * Unknown keys in a tool's INI section, checked the same way by every tool (decisions.md):
 * pgqd refuses them, as upstream's C pgqd does; the tools whose upstream is Python accept
 * upstream's files as they are and warn once per key, with file, line and a close match.
 * Only the tool's own section is checked: `[DEFAULT]` and other sections feed interpolation.
 */
import type { Config } from './config.js';
import { ConfigError } from './errors.js';

/** upstream BaseScript (framework.md §5.2, §5.3): every long-running job reads these. */
export const baseScriptKeys = [
  'job_name',
  'pidfile',
  'logfile',
  'loop_delay',
  'use_skylog',
  'skylog_locations',
  'exception_sleep',
  'exception_quiet',
  'exception_grace',
  'exception_reset',
  'log_size',
  'log_count',
  'logfmt_file',
  'logdatefmt_file',
  'logfmt_file_verbose',
  'logdatefmt_file_verbose',
  'logfmt_console',
  'logdatefmt_console',
  'logfmt_console_verbose',
  'logdatefmt_console_verbose',
] as const;

/** Ours, read by every long-running job (src/script/job-process.ts). */
export const jobProcessKeys = ['metrics_port'] as const;

/** upstream DBScript (framework.md §5.4). */
export const dbScriptKeys = [
  'connection_lifetime',
  'remote_extra_connstr',
  'sql_retry',
  'sql_retry_max_count',
  'sql_retry_max_time',
  'sql_retry_formula_a',
  'sql_retry_formula_b',
  'sql_retry_formula_cap',
] as const;

/** upstream BaseConsumer and Consumer (framework.md §5.6). */
export const baseConsumerKeys = [
  'queue_name',
  'pgq_queue_name',
  'consumer_name',
  'pgq_consumer_id',
  'table_filter',
  'pgq_lazy_fetch',
  'pgq_autocommit',
  'pgq_batch_collect_events',
  'pgq_batch_collect_interval',
  'pgq_keep_lag',
  'keepalive_stats',
] as const;

/** upstream CascadedWorker (framework.md §5.6). */
export const cascadedWorkerKeys = ['global_wm_publish_period', 'local_wm_publish_period'] as const;

export interface UnknownKey {
  readonly key: string;
  readonly section: string;
  readonly file: string;
  /** 0 when the place is not known (a key given only by `--set` is never unknown here). */
  readonly line: number;
  /** A known key it looks like a typo of. */
  readonly closeMatch: string | undefined;
}

/** The keys of `cf`'s own section that `known` does not list, in file order. */
export function findUnknownKeys(cf: Config, known: Iterable<string>): UnknownKey[] {
  const knownList = [...new Set(known)];
  return cf.unknownKeys(knownList).map((key) => {
    const where = cf.keyLocation(key);
    return {
      key,
      section: cf.section,
      file: where?.file ?? cf.file,
      line: where?.line ?? 0,
      closeMatch: closeMatch(key, knownList),
    };
  });
}

/** `file:12: [pgqd] unknown key "tikcer_period" (did you mean "ticker_period"?)` */
export function describeUnknownKey(unknown: UnknownKey): string {
  const where = unknown.line > 0 ? `${unknown.file}:${unknown.line}` : unknown.file;
  const hint = unknown.closeMatch ? ` (did you mean "${unknown.closeMatch}"?)` : '';
  return `${where}: [${unknown.section}] unknown key "${unknown.key}"${hint}`;
}

/** pgqd's rule: any unknown key refuses the file; the error names the first, the rest follow. */
export function refuseUnknownKeys(cf: Config, known: Iterable<string>): void {
  const unknown = findUnknownKeys(cf, known);
  const first = unknown[0];
  if (first === undefined) return;
  const more = unknown.slice(1).map((u) => `"${u.key}"${u.line > 0 ? ` (line ${u.line})` : ''}`);
  throw new ConfigError(
    `${describeUnknownKey(first)}${more.length > 0 ? `; also ${more.join(', ')}` : ''}`,
    { file: first.file, section: first.section, key: first.key, keys: unknown.map((u) => u.key) },
  );
}

/**
 * The Python tools' rule: one warning line per unknown key (`... unknown key "x" ignored`),
 * the job runs. Returns the keys, for callers that show them elsewhere too.
 */
export function warnUnknownKeys(
  cf: Config,
  known: Iterable<string>,
  warn: (line: string) => void,
): UnknownKey[] {
  const unknown = findUnknownKeys(cf, known);
  for (const key of unknown) warn(`${describeUnknownKey(key)} ignored`);
  return unknown;
}

/** The known key nearest to `key` by edits (a swap of two letters is one), if near enough. */
export function closeMatch(key: string, known: readonly string[]): string | undefined {
  const limit = key.length <= 4 ? 1 : key.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const distance = editDistance(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: insert, delete, replace, swap of neighbours. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, at(i - 2, j - 2) + 1);
      }
      (d[i] as number[])[j] = value;
    }
  }
  return at(a.length, b.length);
}
