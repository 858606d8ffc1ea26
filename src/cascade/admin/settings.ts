/**
 * Where an admin run gets its settings: upstream setadm's INI (section `cascade_admin`, or
 * the job-name section, see decisions.md), with `--set` overrides, or no file at all when
 * the operator gives `--db` and `--queue`. Command-line switches win over the file.
 */
import {
  baseConsumerKeys,
  baseScriptKeys,
  Config,
  cascadedWorkerKeys,
  dbScriptKeys,
  findUnknownKeys,
  jobProcessKeys,
  type UnknownKey,
} from '../../config/index.js';
import { SkytoolsError } from '../../errors.js';
import { type ListenAddress, parseListen } from '../../script/http-listen.js';
import { loadKeepaliveStats, maxKeepaliveSeconds } from '../../script/idle-stats.js';
import { loadMetricsListen } from '../../script/metrics-key.js';

export interface AdminSettings {
  /** The INI file, when one was given. */
  file: string | undefined;
  section: string | undefined;
  jobName: string;
  queue: string;
  /** `node_db`; undefined = the libpq environment. */
  nodeDb: string | undefined;
  nodeName: string | undefined;
  publicLocation: string | undefined;
  initialProvider: string | undefined;
  extraConnstr: string;
  workerName: string | undefined;
  pidfile: string | undefined;
  logfile: string | undefined;
  /** worker: `metrics_port` (ours), where its counters are served. */
  metricsListen: ListenAddress | undefined;
  loopDelay: number;
  globalWmPublishPeriod: number | undefined;
  localWmPublishPeriod: number | undefined;
  /** worker: seconds between `{idle: S}` stats lines while no batch comes; 0 = none. */
  keepaliveStats: number;
  /** Keys of the file's section that setadm does not know: warned about, then ignored. */
  unknownKeys: readonly UnknownKey[];
}

export const serviceName = 'cascade_admin';

/**
 * Keys setadm knows: upstream's BaseScript, DBScript, CascadeAdmin and (for `worker`) its
 * CascadedWorker with the consumer keys, read or not, so an upstream file raises no warning.
 */
export const adminKeys = [
  ...baseScriptKeys,
  ...dbScriptKeys,
  ...baseConsumerKeys,
  ...cascadedWorkerKeys,
  ...jobProcessKeys,
  'node_db',
  'node_name',
  'public_node_location',
  'initial_provider_location',
  'worker_name',
];

export interface CommandLineSettings {
  db?: string;
  queue?: string;
}

/** Where a cascade tool's INI keeps its settings (see src/cascade/tool.ts). */
export interface SettingsShape {
  /** Sections tried in order; the file's base name comes after them. */
  sections: string[];
  /** The key of the local node's database. */
  dbKey: string;
  /** The tool's own keys besides setadm's (no unknown-key warning for them). */
  extraKeys?: readonly string[];
  /** job_name when there is no INI file (default `setadm`). */
  defaultJobName?: string;
}

export const setadmShape: SettingsShape = {
  sections: [serviceName, `${serviceName}3`, 'setadm'],
  dbKey: 'node_db',
};

/** Settings from an INI file (`file`) or from the command line alone. */
export function loadAdminSettings(
  file: string | undefined,
  cli: CommandLineSettings,
  overrides: Record<string, string>,
  shape: SettingsShape = setadmShape,
): AdminSettings {
  if (file === undefined) return fromCommandLine(cli, overrides, shape);
  const cf = Config.load(file, sectionsFor(file, shape), { overrides });
  const jobName = cf.get('job_name');
  const optional = (key: string) => {
    const value = cf.get(key, '');
    return value === '' ? undefined : value;
  };
  const queue = cli.queue ?? cf.get('queue_name');
  return {
    file: cf.file,
    section: cf.section,
    jobName,
    queue,
    nodeDb: cli.db ?? cf.get(shape.dbKey),
    nodeName: optional('node_name'),
    publicLocation: optional('public_node_location'),
    initialProvider: optional('initial_provider_location'),
    extraConnstr: cf.get('remote_extra_connstr', ''),
    workerName: optional('worker_name'),
    pidfile: optional('pidfile') === undefined ? undefined : cf.getFile('pidfile'),
    logfile: optional('logfile') === undefined ? undefined : cf.getFile('logfile'),
    metricsListen: loadMetricsListen(cf),
    loopDelay: cf.getFloat('loop_delay', 1),
    globalWmPublishPeriod: cf.has('global_wm_publish_period')
      ? cf.getSeconds('global_wm_publish_period')
      : undefined,
    localWmPublishPeriod: cf.has('local_wm_publish_period')
      ? cf.getSeconds('local_wm_publish_period')
      : undefined,
    keepaliveStats: loadKeepaliveStats(cf),
    unknownKeys: findUnknownKeys(cf, [...adminKeys, shape.dbKey, ...(shape.extraKeys ?? [])]),
  };
}

/**
 * upstream's service name with or without the `3`, then the job-name section (a file named
 * `branch1.ini` with `[branch1]`), as decisions.md allows for every tool.
 */
function sectionsFor(file: string, shape: SettingsShape): string[] {
  const base = file
    .split(/[\\/]/)
    .pop()
    ?.replace(/\.[^.]*$/, '');
  return [...shape.sections, ...(base ? [base] : [])];
}

function fromCommandLine(
  cli: CommandLineSettings,
  overrides: Record<string, string>,
  shape: SettingsShape,
) {
  const queue = cli.queue ?? overrides.queue_name;
  if (queue === undefined) {
    throw new SkytoolsError(
      'NEED_CONFIG',
      'need config file or --queue (with --db or the PG* environment), use --help for help.',
      {},
    );
  }
  const get = (key: string) => overrides[key];
  return {
    file: undefined,
    section: undefined,
    jobName: get('job_name') ?? shape.defaultJobName ?? 'setadm',
    queue,
    nodeDb: cli.db ?? get(shape.dbKey),
    nodeName: get('node_name'),
    publicLocation: get('public_node_location'),
    initialProvider: get('initial_provider_location'),
    extraConnstr: get('remote_extra_connstr') ?? '',
    workerName: get('worker_name'),
    pidfile: get('pidfile'),
    logfile: get('logfile'),
    metricsListen:
      get('metrics_port') === undefined
        ? undefined
        : parseListen(get('metrics_port') ?? '', '--set metrics_port'),
    loopDelay: secondsOverride(overrides, 'loop_delay', 1, Number.POSITIVE_INFINITY),
    globalWmPublishPeriod: undefined,
    localWmPublishPeriod: undefined,
    keepaliveStats: secondsOverride(overrides, 'keepalive_stats', 300, maxKeepaliveSeconds),
    unknownKeys: [],
  } satisfies AdminSettings;
}

/** A `--set KEY=SECONDS` given without an INI file: a number from 0 to `max`, else refused. */
function secondsOverride(
  overrides: Record<string, string>,
  key: string,
  fallback: number,
  max: number,
): number {
  const text = overrides[key];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new SkytoolsError(
      'BAD_OPTION',
      `--set ${key} needs a number of seconds${Number.isFinite(max) ? ` from 0 to ${max}` : ' of 0 or more'}, not "${text}"`,
      { key },
    );
  }
  return value;
}

export const sampleIni = `[cascade_admin]
## the local node (libpq key=value string or URL) and the cascaded queue
node_db = dbname=node1
queue_name = myqueue

## default: the file name without .ini; names log lines and (by default) the worker
#job_name = node1

## defaults for create-root / create-branch / create-leaf
#node_name = node1
#public_node_location = host=node1.example.com dbname=node1
#initial_provider_location = host=root.example.com dbname=root

## appended to every connect string built from a node's location
#remote_extra_connstr = user=cascade password=secret connect_timeout=5

## the worker's pgq consumer name on its provider (default: job_name)
#worker_name = node1_worker

## the worker's pidfile (needed by worker -d, -s, -k, -r; admin commands lock
## <pidfile>.admin) and log besides stderr; their directories must exist
#pidfile = ~/pid/%(job_name)s.pid
#logfile = ~/log/%(job_name)s.log

## worker: seconds to sleep without a batch; watermark periods (seconds)
#loop_delay = 1
#global_wm_publish_period = 300
#local_wm_publish_period = 300

## worker: seconds between {idle: S} stats lines while no batch comes (0: none)
#keepalive_stats = 300
`;
