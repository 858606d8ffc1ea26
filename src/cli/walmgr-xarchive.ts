/**
 * `walmgr INI xarchive SRC NAME`, run by the server once per WAL segment. Node's start-up is
 * most of its cost, so this entry loads only the archive code and the INI reader: no
 * commander, no pg, no pino (bin/walmgr.js comes here before loading the full CLI).
 */
import { archiveWal } from '../walmgr/archive.js';
import { createLog } from '../walmgr/log.js';
import { loadWalmgrSettings } from '../walmgr/settings.js';

/**
 * `args` without node and script. Returns the exit code, or null when the arguments are not
 * a plain xarchive call (the full CLI then parses them and explains).
 */
export function runXarchive(args: string[]): number | null {
  const flags = args.filter((arg) => arg.startsWith('-'));
  const words = args.filter((arg) => !arg.startsWith('-'));
  const known = new Set(['-n', '--not-really', '-q', '--quiet', '-v', '--verbose']);
  if (words.length !== 4 || words[1] !== 'xarchive' || flags.some((flag) => !known.has(flag))) {
    return null;
  }
  const [ini, , source, name] = words as [string, string, string, string];
  const started = process.hrtime.bigint();
  let log = createLog({ quiet: flags.includes('-q') || flags.includes('--quiet') });
  try {
    const settings = loadWalmgrSettings(ini);
    log = createLog({
      logfile: settings.logfile,
      quiet: flags.includes('-q') || flags.includes('--quiet'),
      verbose: flags.includes('-v') || flags.includes('--verbose'),
    });
    const notReally = flags.includes('-n') || flags.includes('--not-really');
    const result = archiveWal(
      { completedWals: settings.completedWals, compression: settings.compression, notReally },
      source,
      name,
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const what =
      result.status === 'archived'
        ? `archived ${name}`
        : result.status === 'already-archived'
          ? `${name} was already archived with the same content`
          : `would archive ${source} as ${name}`;
    log.info(`${what} into ${settings.completedWals}`);
    log.info(`{count: 1, duration: ${seconds.toFixed(3)}}`);
    return 0;
  } catch (error) {
    log.error((error as Error).message);
    return 1;
  }
}
