/**
 * `walmgr INI xarchive SRC NAME` and `walmgr INI xrestore NAME DST [RESTARTPOINT]`, run by the
 * server once per WAL file. Node's start-up is most of their cost, so this entry loads only
 * the archive code and the INI reader: no commander, no pg, no pino (bin/walmgr.js comes
 * here before loading the full CLI).
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { archiveWal } from '../walmgr/archive.js';
import { createLog, type WalmgrLog } from '../walmgr/log.js';
import { runPeriodic } from '../walmgr/periodic.js';
import { runOnSlave } from '../walmgr/remote.js';
import { restoreWal } from '../walmgr/restore-wal.js';
import { loadWalmgrSettings, type WalmgrSettings } from '../walmgr/settings.js';

const knownFlags = new Set(['-n', '--not-really', '-q', '--quiet', '-v', '--verbose']);

/**
 * `args` without node and script. Returns the exit code, or null when the arguments are not
 * a plain xarchive or xrestore call (the full CLI then parses them and explains).
 */
export function runLean(args: string[]): number | null {
  // A lone `-` is xarchive's "stdin", not a flag.
  const isFlag = (arg: string) => arg.startsWith('-') && arg !== '-';
  const flags = new Set(args.filter(isFlag));
  const words = args.filter((arg) => !isFlag(arg));
  if ([...flags].some((flag) => !knownFlags.has(flag))) return null;
  const command = words[1];
  const fits =
    (command === 'xarchive' && words.length === 4) ||
    (command === 'xrestore' && (words.length === 4 || words.length === 5));
  if (!fits) return null;
  const quiet = flags.has('-q') || flags.has('--quiet');
  const notReally = flags.has('-n') || flags.has('--not-really');
  const started = process.hrtime.bigint();
  let log = createLog({ quiet });
  try {
    const settings = loadWalmgrSettings(words[0] as string);
    log = createLog({
      logfile: settings.logfile,
      quiet,
      verbose: flags.has('-v') || flags.has('--verbose'),
    });
    const [, , first, second] = words as [string, string, string, string];
    const code =
      command === 'xarchive'
        ? xarchive(settings, log, first, second, notReally)
        : xrestore(settings, log, first, second, notReally);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (code === 0) log.info(`{count: 1, duration: ${seconds.toFixed(3)}}`);
    return code;
  } catch (error) {
    log.error((error as Error).message);
    return 1;
  }
}

function xarchive(
  settings: WalmgrSettings,
  log: WalmgrLog,
  source: string,
  name: string,
  notReally: boolean,
): number {
  if (settings.remote !== undefined) {
    // The slave's walmgr stores it (fsyncs, checksum, same-bytes check): it reads stdin.
    const where = `${settings.remote.host}:${settings.completedWals}`;
    if (notReally) log.info(`would send ${source} as ${name} to ${where}`);
    else {
      const input = openSync(source, 'r');
      try {
        runOnSlave(settings.remote, ['xarchive', '-', name], input);
      } finally {
        closeSync(input);
      }
      log.info(`sent ${name} to ${where}`);
    }
  } else {
    // `-`: the segment comes on stdin, from a master whose archive is here.
    const result = archiveWal(
      { completedWals: settings.completedWals, compression: settings.compression, notReally },
      source === '-' ? 'stdin' : source,
      name,
      source === '-' ? readFileSync(0) : undefined,
    );
    const what =
      result.status === 'archived'
        ? `archived ${name}`
        : result.status === 'already-archived'
          ? `${name} was already archived with the same content`
          : `would archive ${source} as ${name}`;
    log.info(`${what} into ${settings.completedWals}`);
  }
  try {
    runPeriodic(settings, (line) => log.info(line), notReally);
  } catch (error) {
    // The segment is archived: periodic_command's failure must not make the server retry it.
    log.warning((error as Error).message);
  }
  return 0;
}

function xrestore(
  settings: WalmgrSettings,
  log: WalmgrLog,
  name: string,
  destination: string,
  notReally: boolean,
): number {
  const result = restoreWal(settings, name, destination, {
    notReally,
    log: (line) => log.info(line),
  });
  if (result.status === 'missing') {
    // The server asks for files that need not exist (the next segment, a newer timeline).
    log.debug(result.reason);
    return 1;
  }
  log.info(`${notReally ? 'would restore' : 'restored'} ${name} from ${result.from}`);
  return 0;
}
