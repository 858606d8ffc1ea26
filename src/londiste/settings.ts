/**
 * Londiste's settings: upstream's INI (`[londiste]` or `[londiste3]`, key `db`; spec §6.1)
 * over the cascade admin's, so every cascade command reads them as setadm does.
 */
import {
  type AdminSettings,
  type CommandLineSettings,
  loadAdminSettings,
  type SettingsShape,
} from '../cascade/admin/settings.js';
import { Config } from '../config/index.js';

export interface LondisteSettings extends AdminSettings {
  /** Tables copied at once at most (`parallel_copies`, default 1). */
  parallelCopies: number;
  /**
   * Where the worker runs table copies (`copy_mode`, ours): `process` (default) one
   * `copy TABLE` process each, as upstream, so a copy never holds up replay of the other
   * tables; `worker` as tasks of the worker's own process, which start sooner.
   */
  copyMode: 'worker' | 'process';
  /**
   * With copy_mode = process and a pidfile: keep one copy process started ahead, its
   * modules loaded, waiting for the next table (`copy_prestart`, ours, default on).
   */
  copyPrestart: boolean;
  /** Fetch only events of local tables and the cascade's own (`local_only`). */
  localOnly: boolean;
  /** With local_only, drop EXECUTE events too (`local_only_drop_execute`). */
  localOnlyDropExecute: boolean;
  /** Seconds: statement_timeout of admin DDL, how long compare waits for its point (`lock_timeout`, 10). */
  lockTimeout: number;
  /** Filters when a branch or leaf takes over the provider's registrations (globs). */
  registerOnlyTables: string[] | undefined;
  registerOnlySeqs: string[] | undefined;
  registerSkipTables: string[] | undefined;
  registerSkipSeqs: string[] | undefined;
  /** Modules that provide handlers besides the built-in ones (`handler_modules`). */
  handlerModules: string[];
  /**
   * The handlers' own keys that the INI sets (`shard_hash_func`, `shard_info_sql`,
   * `obfuscator_map`, `obfuscator_key`), given to every handler as its `config`.
   */
  handlerConfig: Record<string, string>;
  /** `compare_sql` / `compare_fmt` overrides of compare's query; undefined = ours. */
  compareSql: string | undefined;
  compareFmt: string | undefined;
}

/** Keys of spec §6.1 besides the cascade admin's; read or accepted without a warning. */
export const londisteKeys = [
  'db',
  'pgq_queue_name',
  'parallel_copies',
  'copy_mode',
  'copy_prestart',
  'threaded_copy_tables',
  'threaded_copy_pool_size',
  'local_only',
  'local_only_drop_execute',
  'lock_timeout',
  'compare_sql',
  'compare_fmt',
  'register_only_tables',
  'register_only_seqs',
  'register_skip_tables',
  'register_skip_seqs',
  'handler_modules',
  'shard_hash_func',
  'shard_info_sql',
  'obfuscator_map',
  'obfuscator_key',
] as const;

/** The keys handlers read (upstream: the handler classes' `load_conf`). */
export const handlerConfigKeys = [
  'shard_hash_func',
  'shard_info_sql',
  'obfuscator_map',
  'obfuscator_key',
] as const;

export const londisteShape: SettingsShape = {
  sections: ['londiste', 'londiste3'],
  dbKey: 'db',
  extraKeys: londisteKeys,
  defaultJobName: 'londiste',
};

function copyMode(cf: Config): LondisteSettings['copyMode'] {
  const value = cf.get('copy_mode', 'process');
  const mode = value.trim().toLowerCase();
  if (mode === 'worker' || mode === 'process') return mode;
  throw cf.error('copy_mode', `copy_mode must be worker or process, got ${JSON.stringify(value)}`);
}

/** Settings from an INI file (`file`) or from the command line alone. */
export function loadLondisteSettings(
  file: string | undefined,
  cli: CommandLineSettings,
  overrides: Record<string, string>,
): LondisteSettings {
  const base = loadAdminSettings(file, cli, overrides, londisteShape);
  const cf =
    base.file === undefined
      ? Config.fromText('[londiste]\n', ['londiste'], { overrides })
      : Config.load(base.file, [base.section as string], { overrides });
  const list = (key: string) => (cf.has(key) ? cf.getList(key) : undefined);
  const optional = (key: string) => (cf.has(key) ? cf.get(key) : undefined);
  return {
    ...base,
    parallelCopies: cf.getInt('parallel_copies', 1),
    copyMode: copyMode(cf),
    copyPrestart: cf.getBool('copy_prestart', true),
    localOnly: cf.getBool('local_only', false),
    localOnlyDropExecute: cf.getBool('local_only_drop_execute', false),
    lockTimeout: cf.getSeconds('lock_timeout', 10),
    registerOnlyTables: list('register_only_tables'),
    registerOnlySeqs: list('register_only_seqs'),
    registerSkipTables: list('register_skip_tables'),
    registerSkipSeqs: list('register_skip_seqs'),
    handlerModules: cf.getList('handler_modules', []),
    handlerConfig: Object.fromEntries(
      handlerConfigKeys.filter((key) => cf.has(key)).map((key) => [key, cf.get(key)]),
    ),
    compareSql: optional('compare_sql'),
    compareFmt: optional('compare_fmt'),
  };
}
