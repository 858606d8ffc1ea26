/**
 * pgqd's settings: upstream's `[pgqd]` keys with their defaults, plus our own keys for the
 * low-latency policy, reconnect backoff and fail-fast exit. Everything is checked at load, so
 * a bad file fails at start (or is refused on reload) with the file, section and key named.
 */
import { Config, refuseUnknownKeys } from '../config/index.js';
import { parseConnString } from '../db/connstring.js';
import { SkytoolsError } from '../errors.js';
import type { ListenAddress } from '../script/http-listen.js';
import { loadMetricsListen } from '../script/metrics-key.js';
import { syslogFacilities } from '../script/syslog.js';

export interface PgqdSettings {
  /** The file the settings came from (for reloads and messages). */
  readonly file: string;
  readonly logfile: string | undefined;
  readonly pidfile: string | undefined;
  /** Ours (`metrics_port`): where the counters are served; undefined = not served. */
  readonly metricsListen: ListenAddress | undefined;
  /** libpq key=value string or URL without the database; "" = libpq environment. */
  readonly baseConnstr: string;
  readonly initialDatabase: string;
  /** Databases to manage; null = every database that has pgq (auto-discovery). */
  readonly databaseList: string[] | null;
  readonly syslog: boolean;
  readonly syslogIdent: string;
  readonly syslogFacility: string;
  /** Periods in seconds. */
  readonly checkPeriod: number;
  readonly retryPeriod: number;
  readonly maintPeriod: number;
  readonly tickerPeriod: number;
  readonly statsPeriod: number;
  readonly connectionLifetime: number;
  /** Ours: shortest gap between ticks of a queue with new events; 0 = upstream behaviour. */
  readonly tickerMinInterval: number;
  /** Ours: longest wait between reconnect attempts (the backoff doubles up to it). */
  readonly reconnectMaxDelay: number;
  /** Ours: exit non-zero when every database failed this many times in a row; 0 = never. */
  readonly exitAfterFailures: number;
}

/** The keys pgqd reads, with defaults as written in a config file. */
export const pgqdDefaults = {
  logfile: '',
  pidfile: '',
  base_connstr: '',
  initial_database: 'template1',
  database_list: '',
  syslog: '0',
  syslog_ident: 'pgqd',
  syslog_facility: 'daemon',
  check_period: '60',
  retry_period: '30',
  maint_period: '120',
  ticker_period: '1',
  stats_period: '30',
  connection_lifetime: '3600',
  ticker_min_interval: '0.01',
  reconnect_max_delay: '10',
  exit_after_failures: '0',
  metrics_port: '',
} as const;

// Every key of upstream's [pgqd] plus ours; job_name is the built-in every section has.
const knownKeys = [...Object.keys(pgqdDefaults), 'job_name'];

export function loadPgqdSettings(file: string): PgqdSettings {
  return settingsFromConfig(Config.load(file, ['pgqd']));
}

export function settingsFromConfig(cf: Config): PgqdSettings {
  refuseUnknownKeys(cf, knownKeys);
  const file = (key: string) => cf.getFile(key, '') || undefined;
  const period = (key: keyof typeof pgqdDefaults, min: number) => {
    const value = cf.getSeconds(key, Number(pgqdDefaults[key]));
    if (value < min) throw cf.error(key, `${key} must be at least ${min}, not ${value}`);
    return value;
  };
  const baseConnstr = cf.get('base_connstr', '');
  try {
    parseConnString(baseConnstr);
  } catch (error) {
    throw cf.error('base_connstr', `bad base_connstr: ${(error as Error).message}`);
  }
  if (
    /^postgres(ql)?:\/\//.test(baseConnstr.trim()) === false &&
    /\bdbname\s*=/.test(baseConnstr)
  ) {
    throw cf.error('base_connstr', 'base_connstr must not name a database (dbname is added)');
  }
  const list = cf.getList('database_list', []);
  const exitAfter = cf.getInt('exit_after_failures', 0);
  if (exitAfter < 0) throw cf.error('exit_after_failures', 'exit_after_failures must be >= 0');
  const facility = cf.get('syslog_facility', pgqdDefaults.syslog_facility);
  if (!(facility.toLowerCase() in syslogFacilities)) {
    throw cf.error(
      'syslog_facility',
      `unknown syslog_facility "${facility}"; one of: ${Object.keys(syslogFacilities).join(', ')}`,
    );
  }
  return {
    file: cf.file,
    logfile: file('logfile'),
    pidfile: file('pidfile'),
    metricsListen: loadMetricsListen(cf),
    baseConnstr,
    initialDatabase: cf.get('initial_database', pgqdDefaults.initial_database),
    databaseList: list.length > 0 ? list : null,
    syslog: cf.getBool('syslog', false),
    syslogIdent: cf.get('syslog_ident', pgqdDefaults.syslog_ident),
    syslogFacility: cf.get('syslog_facility', pgqdDefaults.syslog_facility),
    checkPeriod: period('check_period', 0.1),
    retryPeriod: period('retry_period', 0.1),
    maintPeriod: period('maint_period', 0.1),
    tickerPeriod: period('ticker_period', 0.01),
    statsPeriod: period('stats_period', 0.1),
    connectionLifetime: period('connection_lifetime', 1),
    tickerMinInterval: period('ticker_min_interval', 0),
    reconnectMaxDelay: period('reconnect_max_delay', 0.1),
    exitAfterFailures: exitAfter,
  };
}

/** `pgqd --ini`: a commented sample config with every key and its default. */
export const sampleIni = `[pgqd]
# where to log (default: stderr only); the directory must exist
#logfile = ~/log/pgqd.log

# pidfile, needed by -d, -s, -k and -r; the directory must exist
#pidfile = ~/pid/pgqd.pid

## how to connect: libpq key=value string (or URL) without dbname;
## empty = the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGPASSFILE)
#base_connstr = host=127.0.0.1 port=5432 user=postgres

## database to connect to when listing databases
#initial_database = template1

## manage only these databases (comma-separated); default: every database with pgq
#database_list =

## 1: also send every line to the local syslog (through the logger command) under this
## ident and facility; default 0 (upstream: 1), stderr and logfile are enough under a supervisor
#syslog = 0
#syslog_ident = pgqd
#syslog_facility = daemon

## periods, in seconds (fractions allowed)
# how often to re-list databases and re-check a database without pgq
#check_period = 60
# how often to move due retry events back into their queues
#retry_period = 30
# how often to run pgq.maint_operations() (rotation, vacuum, extra maintenance)
#maint_period = 120
# how often to tick an idle database (upstream's ticker cadence)
#ticker_period = 1
# how often to log the {ticks: N, maint: N, retry: N, errors: N} line
#stats_period = 30
# reconnect connections older than this
#connection_lifetime = 3600

## skytools additions
# shortest gap between two ticks of a queue that has new events; 0 = upstream behaviour
#ticker_min_interval = 0.01
# longest wait between reconnect attempts (starts at 1 s, doubles)
#reconnect_max_delay = 10
# exit with status 1 once every database failed this many attempts in a row; 0 = never
#exit_after_failures = 0
# serve the counters on http://HOST:PORT/metrics (Prometheus); PORT alone = 127.0.0.1:PORT
#metrics_port = 9190
`;

/** Settings for a daemon driven from code (bench, tests): defaults with overrides. */
export function pgqdSettings(overrides: Partial<PgqdSettings> = {}): PgqdSettings {
  const cf = Config.fromText('[pgqd]\n', ['pgqd'], { file: '<code>' });
  const base = settingsFromConfig(cf);
  const merged = { ...base, ...overrides };
  if (merged.tickerPeriod <= 0) {
    throw new SkytoolsError('BAD_SETTINGS', 'tickerPeriod must be positive', {});
  }
  return merged;
}
