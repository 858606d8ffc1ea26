/**
 * data_maintainer's INI section (upstream data_maintainer3): where the keys come from (a query
 * on `dbread`, or a CSV file), the statement run for each (`sql_modify` on `dbwrite`), the
 * optional statements around the run and their databases, throttling and commit sizes.
 */
import { baseScriptKeys, type Config, dbScriptKeys } from '../../config/index.js';
import { parseConnString } from '../../db/connstring.js';
import type { SkytoolsError } from '../../errors.js';
import { compileDstQuery, type DstQuery } from '../dst-query.js';

export type KeySource =
  | { kind: 'query'; db: string; sql: DstQuery; withHold: boolean }
  | { kind: 'csv'; file: string; delimiter: string; quotechar: string };

/** An optional statement and the database it runs on. */
export interface SideStatement {
  readonly key: string;
  /** The key of its database (dbbefore, ...); each has a session of its own. */
  readonly dbKey: string;
  readonly db: string;
  readonly sql: DstQuery;
}

export interface DataMaintainerSettings {
  readonly file: string;
  readonly section: string;
  readonly jobName: string;
  readonly pidfile: string | undefined;
  readonly logfile: string | undefined;
  /** Seconds between runs; below 0 (the default): run once and exit. */
  readonly loopDelay: number;
  readonly exceptionSleep: number;
  readonly exceptionQuiet: readonly string[];
  readonly exceptionGrace: number;
  readonly exceptionReset: number;
  readonly source: KeySource;
  readonly dbwrite: string;
  readonly modify: DstQuery;
  readonly before: SideStatement | null;
  readonly after: SideStatement | null;
  /** Run sql_after_run also when the key list was empty. */
  readonly afterZeroRows: boolean;
  readonly onCrash: SideStatement | null;
  readonly throttle: SideStatement | null;
  /** Keys fetched at once, and rows per transaction when not autocommit. */
  readonly fetchCount: number;
  /** Commit after each row (upstream's default) instead of after each fetch. */
  readonly autocommit: boolean;
  /** Seconds to sleep after each commit. */
  readonly commitDelay: number;
  /** Ours: where the run's position is kept so a stopped or crashed run resumes; null: none. */
  readonly positionFile: string | null;
}

export const dataMaintainerKeys = [
  ...baseScriptKeys,
  ...dbScriptKeys,
  'dbread',
  'dbwrite',
  'dbbefore',
  'dbafter',
  'dbcrash',
  'dbthrottle',
  'sql_get_pk_list',
  'fileread',
  'csv_delimiter',
  'csv_quotechar',
  'sql_modify',
  'sql_before_run',
  'sql_after_run',
  'after_zero_rows',
  'sql_on_crash',
  'sql_throttle',
  'with_hold',
  'fetch_count',
  'autocommit',
  'commit_delay',
  // ours
  'position_file',
];

function connstr(cf: Config, key: string, fallback?: string): string {
  const value = cf.get(key, fallback);
  try {
    parseConnString(value);
  } catch (error) {
    throw cf.error(key, (error as Error).message);
  }
  return value;
}

function statement(cf: Config, key: string): DstQuery {
  try {
    return compileDstQuery(cf.get(key), key);
  } catch (error) {
    throw cf.error(key, (error as SkytoolsError).message);
  }
}

function side(cf: Config, key: string, dbKey: string, dbwrite: string): SideStatement | null {
  if (cf.get(key, '').trim() === '') return null;
  return {
    key,
    dbKey,
    db: cf.has(dbKey) ? connstr(cf, dbKey) : dbwrite,
    sql: statement(cf, key),
  };
}

function oneChar(cf: Config, key: string, fallback: string): string {
  const value = cf.get(key, fallback);
  if ([...value].length !== 1) throw cf.error(key, `${key} must be one character, not "${value}"`);
  return value;
}

export function loadDataMaintainerSettings(cf: Config): DataMaintainerSettings {
  const hasQuery = cf.get('sql_get_pk_list', '').trim() !== '';
  const hasFile = cf.get('fileread', '').trim() !== '';
  if (hasQuery === hasFile) {
    throw cf.error(
      hasQuery ? 'fileread' : 'sql_get_pk_list',
      hasQuery
        ? 'give either sql_get_pk_list (with dbread) or fileread, not both'
        : 'missing the key list: sql_get_pk_list (with dbread) or fileread (a CSV file)',
    );
  }
  let source: KeySource;
  if (hasQuery) {
    source = {
      kind: 'query',
      db: connstr(cf, 'dbread'),
      sql: statement(cf, 'sql_get_pk_list'),
      withHold: cf.getBool('with_hold', true),
    };
  } else {
    const delimiter = oneChar(cf, 'csv_delimiter', ',');
    const quotechar = oneChar(cf, 'csv_quotechar', '"');
    if (delimiter === quotechar) {
      throw cf.error('csv_quotechar', 'csv_quotechar must differ from csv_delimiter');
    }
    source = { kind: 'csv', file: cf.getFile('fileread'), delimiter, quotechar };
  }
  const dbwrite = connstr(cf, 'dbwrite');
  const fetchCount = cf.getInt('fetch_count', 100);
  if (fetchCount < 1)
    throw cf.error('fetch_count', `fetch_count must be at least 1, not ${fetchCount}`);
  const commitDelay = cf.getSeconds('commit_delay', 0);
  if (commitDelay < 0) throw cf.error('commit_delay', 'commit_delay must not be negative');
  const positionFile = cf.getFile('position_file', '');
  return {
    file: cf.file,
    section: cf.section,
    jobName: cf.get('job_name'),
    pidfile: cf.getFile('pidfile', '') || undefined,
    logfile: cf.getFile('logfile', '') || undefined,
    loopDelay: cf.getFloat('loop_delay', -1),
    exceptionSleep: cf.getSeconds('exception_sleep', 20),
    exceptionQuiet: cf.getList('exception_quiet', []),
    exceptionGrace: cf.getSeconds('exception_grace', 300),
    exceptionReset: cf.getSeconds('exception_reset', 900),
    source,
    dbwrite,
    modify: statement(cf, 'sql_modify'),
    before: side(cf, 'sql_before_run', 'dbbefore', dbwrite),
    after: side(cf, 'sql_after_run', 'dbafter', dbwrite),
    afterZeroRows: cf.getBool('after_zero_rows', true),
    onCrash: side(cf, 'sql_on_crash', 'dbcrash', dbwrite),
    throttle: side(cf, 'sql_throttle', 'dbthrottle', dbwrite),
    fetchCount,
    autocommit: cf.getBool('autocommit', true),
    commitDelay,
    positionFile: positionFile === '' || positionFile === '-' ? null : positionFile,
  };
}
