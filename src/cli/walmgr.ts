/**
 * `walmgr INI COMMAND [ARGS]` and `skytools walmgr ...`: upstream's command line (spec §7.1).
 * This file parses and prints; the work is in src/walmgr. xarchive has a lean entry of its own
 * (walmgr-xarchive.ts) that the bin tries first.
 */

import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { packageVersion } from '../version.js';
import { archiveAheadDaemon } from '../walmgr/archive-ahead.js';
import { takeBackup } from '../walmgr/backup.js';
import {
  finishRemoteBackup,
  startRemoteBackup,
  takeRemoteBackup,
} from '../walmgr/backup-remote.js';
import { listSets, rotateSets } from '../walmgr/backup-sets.js';
import { cleanup } from '../walmgr/cleanup.js';
import { releaseBackupLock, takeBackupLock } from '../walmgr/control-files.js';
import { createSlave } from '../walmgr/createslave.js';
import { drill } from '../walmgr/drill.js';
import { WalmgrError } from '../walmgr/errors.js';
import { createLog, type WalmgrLog } from '../walmgr/log.js';
import { openMaster } from '../walmgr/master-session.js';
import {
  defaultSegmentBytes,
  partialsOf,
  prunePartials,
  syncPartial,
  writePartial,
} from '../walmgr/partial-sync.js';
import { runPeriodic } from '../walmgr/periodic.js';
import { purgeWals } from '../walmgr/purge.js';
import type { RecoveryTarget } from '../walmgr/recovery-settings.js';
import { runOnSlave } from '../walmgr/remote.js';
import { restoreBackup } from '../walmgr/restore.js';
import { setupMaster, stopMaster, synchStandby } from '../walmgr/server-settings.js';
import { loadWalmgrSettings, type WalmgrSettings } from '../walmgr/settings.js';
import { boot, pause, resume } from '../walmgr/standby.js';
import { describeRound, stopSyncDaemon, syncDaemon } from '../walmgr/sync-daemon.js';
import { reportFailure } from './output.js';
import { initProgram, synchStandbyProgram } from './walmgr-init.js';

interface Flags {
  notReally?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  label?: string;
  recoveryTargetTime?: string;
  recoveryTargetLsn?: string;
  recoveryTargetXid?: string;
  recoveryTargetName?: string;
  recoveryTargetExclusive?: boolean;
  recoveryTargetAction?: RecoveryTarget['action'];
  recovery?: boolean;
  checkTable?: string[];
  keep?: boolean;
}

interface Context {
  settings: WalmgrSettings;
  log: WalmgrLog;
  flags: Flags;
  args: string[];
}

type Handler = (context: Context) => Promise<number> | number;

const commands: Record<string, { usage: string; help: string; run: Handler }> = {
  setup: {
    usage: 'setup',
    help: 'master: archive_mode, archive_command (and wal_level) through ALTER SYSTEM; make the archive directories',
    run: async ({ settings, log, flags }) => {
      const result = await setupMaster(settings, log, flags.notReally);
      if (result.changed.length === 0) log.info('archiving was already set up');
      return 0;
    },
  },
  stop: {
    usage: 'stop',
    help: 'master: stop archiving (archive_command = /bin/true, or archive_mode off with master_restart_cmd)',
    run: async ({ settings, log, flags }) => {
      stopSyncDaemon(settings, log, flags.notReally);
      await stopMaster(settings, log, flags.notReally);
      return 0;
    },
  },
  backup: {
    usage: 'backup',
    help: 'master: non-exclusive base backup into full_backup, rotate old ones, purge old WAL',
    run: async ({ settings, log, flags }) => {
      const options = {
        ...(flags.notReally ? { notReally: true } : {}),
        ...(flags.label ? { label: flags.label } : {}),
      };
      if (settings.remote !== undefined) await takeRemoteBackup(settings, log, options);
      else await takeBackup(settings, log, options);
      return 0;
    },
  },
  listbackups: {
    usage: 'listbackups',
    help: 'list complete backup sets: name, start time, label, first WAL',
    run: ({ settings }) => {
      if (settings.remote !== undefined) {
        process.stdout.write(runOnSlave(settings.remote, ['listbackups']));
        return 0;
      }
      const sets = listSets(settings.fullBackup);
      process.stdout.write(
        `${['set', 'start time', 'label', 'first WAL', 'stop WAL'].join('\t')}\n`,
      );
      for (const set of sets) {
        const m = set.manifest;
        process.stdout.write(
          `${[set.name, m.startTime, m.label, m.startWal, m.stopWal].join('\t')}\n`,
        );
      }
      return 0;
    },
  },
  restore: {
    usage: 'restore [SET [DST]]',
    help: 'slave: copy a backup set into slave_data (or DST) and write the recovery settings',
    run: async ({ settings, log, flags, args }) => {
      const target = targetOf(flags);
      await restoreBackup(settings, log, {
        ...(args[0] !== undefined ? { set: args[0] } : {}),
        ...(args[1] !== undefined ? { destination: args[1] } : {}),
        target,
        recoveryOnly: flags.recovery === true,
        notReally: flags.notReally === true,
      });
      return 0;
    },
  },
  boot: {
    usage: 'boot',
    help: 'slave: end recovery (STOP file) and promote a running standby',
    run: ({ settings, log, flags }) => {
      boot(settings, log, flags.notReally);
      return 0;
    },
  },
  createslave: {
    usage: 'createslave',
    help: 'slave: a streaming standby from scratch: base backup, restore with primary_conninfo, slave_start_cmd',
    run: async ({ settings, log, flags }) => {
      await createSlave(settings, log, {
        ...(flags.notReally ? { notReally: true } : {}),
        ...(flags.label ? { label: flags.label } : {}),
      });
      return 0;
    },
  },
  'synch-standby': {
    usage: 'synch-standby NAMES',
    help: "master: synchronous_standby_names = NAMES ('' turns it off), refused when none of them streams",
    run: async ({ settings, log, flags, args }) => {
      if (args.length !== 1) {
        throw new WalmgrError(
          'USAGE',
          "usage: walmgr INI synch-standby NAMES (NAMES '' turns it off)",
          {},
        );
      }
      const result = await synchStandby(settings, log, args[0] as string, flags.notReally);
      if (result.changed.length === 0) log.info(`synchronous_standby_names is already ${args[0]}`);
      return 0;
    },
  },
  pause: {
    usage: 'pause',
    help: 'slave: hold back new WAL segments (PAUSE file)',
    run: ({ settings, log, flags }) => {
      pause(settings, log, flags.notReally);
      return 0;
    },
  },
  continue: {
    usage: 'continue',
    help: 'slave: resume WAL replay',
    run: ({ settings, log, flags }) => {
      resume(settings, log, flags.notReally);
      return 0;
    },
  },
  drill: {
    usage: 'drill [SET]',
    help: '(ours) check the archive, restore a backup into a scratch server, recover, check; exit 1 if bad',
    run: async ({ settings, log, flags, args }) => {
      if (flags.notReally) {
        log.info(
          `would restore ${args[0] ?? 'the newest backup'} into a scratch directory and recover it`,
        );
        return 0;
      }
      const report = await drill(settings, log, {
        ...(args[0] !== undefined ? { set: args[0] } : {}),
        target: targetOf(flags),
        checkTables: flags.checkTable ?? [],
        ...(flags.keep ? { keep: true } : {}),
      });
      for (const line of report.lines) process.stdout.write(`${line}\n`);
      for (const problem of report.problems) process.stdout.write(`PROBLEM: ${problem}\n`);
      process.stdout.write(
        `drill: ${report.ok ? 'the backup is good' : 'the backup is NOT good'}\n`,
      );
      return report.ok ? 0 : 1;
    },
  },
  cleanup: {
    usage: 'cleanup',
    help: 'remove walmgr_data, old data directories kept by restore, and this config file',
    run: ({ settings, log, flags }) => {
      cleanup(settings, log, flags.notReally);
      return 0;
    },
  },
  sync: {
    usage: 'sync',
    help: 'master: copy the WAL flushed but not yet archived into partial_wals (for boot)',
    run: async ({ settings, log, flags }) => {
      const client = await openMaster(settings.masterDb);
      try {
        const round = await syncPartial(settings, client, flags.notReally, partialsOf(settings));
        log.info(`${flags.notReally ? 'would have ' : ''}${describeRound(round)}`);
      } finally {
        await client.end();
      }
      return 0;
    },
  },
  syncdaemon: {
    usage: 'syncdaemon',
    help: 'master: sync every loop_delay seconds until stopped (pidfile: stop ends it)',
    run: async ({ settings, log, flags }) => {
      if (flags.notReally) return wouldDo(log, `run sync every ${settings.loopDelay} s`);
      await syncDaemon(settings, log);
      return 0;
    },
  },
  'archive-ahead': {
    usage: 'archive-ahead',
    help: '(ours) master: archive .ready segments as they come, so archive_command only confirms (archive_ahead = yes)',
    run: async ({ settings, log, flags }) => {
      if (flags.notReally) return wouldDo(log, 'archive .ready segments as they come');
      await archiveAheadDaemon(settings, log);
      return 0;
    },
  },
  periodic: {
    usage: 'periodic',
    help: 'master: run periodic_command if command_interval has passed (xarchive calls it too)',
    run: ({ settings, log, flags }) => {
      const result = runPeriodic(settings, (line) => log.info(line), flags.notReally);
      if (result === 'not-set') log.info('no periodic_command is set');
      if (result === 'not-due') log.info('periodic_command is not due yet');
      return 0;
    },
  },
  xpartialsync: {
    usage: 'xpartialsync FILE OFFSET BYTES [SEGMENT_BYTES]',
    help: 'slave: write BYTES bytes of stdin at OFFSET of partial_wals/FILE, padded to the segment size',
    run: async ({ settings, log, flags, args }) => {
      const [file, offset, bytes, segment] = args;
      const numbers = [offset, bytes, segment ?? String(defaultSegmentBytes)].map(Number);
      if (file === undefined || numbers.some((n) => !Number.isInteger(n) || n < 0)) {
        throw new WalmgrError(
          'USAGE',
          'usage: walmgr INI xpartialsync FILE OFFSET BYTES [SEGMENT_BYTES]',
          {},
        );
      }
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const data = Buffer.concat(chunks);
      if (data.length !== numbers[1]) {
        throw new WalmgrError(
          'USAGE',
          `xpartialsync: ${data.length} bytes on stdin, ${bytes} announced`,
          { file },
        );
      }
      if (flags.notReally) {
        log.info(`would write ${bytes} bytes at ${offset} of ${file}`);
        return 0;
      }
      writePartial(settings.partialWals, file, numbers[0] as number, data, numbers[2]);
      log.info(`wrote ${bytes} bytes at ${offset} of ${settings.partialWals}/${file}`);
      // A master's remote sync leaves the pruning to this side, which sees the archive.
      const removed = prunePartials(settings, file);
      if (removed.length > 0) log.info(`removed ${removed.length} partial files the archive has`);
      return 0;
    },
  },
  xarchive: {
    usage: 'xarchive SRC NAME',
    help: 'archive_command: store one WAL file durably with its checksum',
    run: leanOnly('xarchive SRC NAME'),
  },
  xrestore: {
    usage: 'xrestore NAME DST [RESTARTPOINT]',
    help: 'restore_command: copy one WAL file out of the archive, checksum checked',
    run: leanOnly('xrestore NAME DST [RESTARTPOINT]'),
  },
  xpurgewals: {
    usage: 'xpurgewals',
    help: 'delete archived WAL older than the oldest kept backup needs',
    run: ({ settings, log, flags }) => {
      const purged = purgeWals(settings, log, flags.notReally);
      log.info(`${flags.notReally ? 'would purge' : 'purged'} ${purged.length} WAL files`);
      return 0;
    },
  },
  xlock: {
    usage: 'xlock [PID]',
    help: 'take the backup lock (BACKUPLOCK) for PID',
    run: ({ settings, log, flags, args }) => {
      if (flags.notReally) return wouldDo(log, 'take the backup lock');
      takeBackupLock(settings.completedWals, Number(args[0] ?? process.ppid));
      return 0;
    },
  },
  xrelease: {
    usage: 'xrelease',
    help: 'release the backup lock',
    run: ({ settings, log, flags }) => {
      if (flags.notReally) return wouldDo(log, 'release the backup lock');
      releaseBackupLock(settings.completedWals);
      return 0;
    },
  },
  xbackupstart: {
    usage: 'xbackupstart PID',
    help: "slave (ours): a remote master's backup begins: lock for PID, empty incoming set",
    run: ({ settings, log, flags, args }) => {
      if (flags.notReally) return wouldDo(log, 'take the backup lock and empty the incoming set');
      process.stdout.write(`${startRemoteBackup(settings, args[0] ?? '', log)}\n`);
      return 0;
    },
  },
  xbackupfinish: {
    usage: 'xbackupfinish',
    help: "slave (ours): finish a remote master's backup (its stop result on stdin)",
    run: async ({ settings, log, flags }) => {
      if (flags.notReally) return wouldDo(log, 'finish the incoming set');
      await finishRemoteBackup(settings, readFileSync(0, 'utf8'), log);
      return 0;
    },
  },
  xrotate: {
    usage: 'xrotate',
    help: 'rotate backup sets: full_backup -> .0 -> .1, dropping those beyond keep_backups',
    run: ({ settings, log, flags }) => {
      for (const dir of rotateSets(
        settings.fullBackup,
        settings.keepBackups,
        () => {},
        flags.notReally,
      )) {
        log.info(`${flags.notReally ? 'would delete' : 'deleted'} ${dir}`);
      }
      return 0;
    },
  },
};

function targetOf(flags: Flags): RecoveryTarget {
  return {
    ...(flags.recoveryTargetTime ? { time: flags.recoveryTargetTime } : {}),
    ...(flags.recoveryTargetLsn ? { lsn: flags.recoveryTargetLsn } : {}),
    ...(flags.recoveryTargetXid ? { xid: flags.recoveryTargetXid } : {}),
    ...(flags.recoveryTargetName ? { name: flags.recoveryTargetName } : {}),
    ...(flags.recoveryTargetExclusive ? { inclusive: false } : {}),
    ...(flags.recoveryTargetAction ? { action: flags.recoveryTargetAction } : {}),
  };
}

/** What a master whose archive is on a remote slave runs here (the rest runs there). */
const remoteCommands = new Set([
  'setup',
  'stop',
  'backup',
  'listbackups',
  'synch-standby',
  'periodic',
  'sync',
  'syncdaemon',
]);

/** `-n` of a command that only acts: say what it would do, exit 0. */
function wouldDo(log: WalmgrLog, what: string): number {
  log.info(`would ${what}`);
  return 0;
}

/** xarchive and xrestore run in walmgr-lean.ts; reaching here means their arguments were wrong. */
function leanOnly(usage: string): Handler {
  return () => {
    throw new WalmgrError('USAGE', `usage: walmgr INI ${usage}`, {});
  };
}

export function walmgrProgram(
  name: string,
  run: (ini: string, command: string, args: string[], flags: Flags) => Promise<number>,
): Command {
  const list = Object.values(commands)
    .map((command) => `  ${command.usage.padEnd(34)} ${command.help}`)
    .join('\n');
  return new Command(name)
    .description(
      'WAL archiving, base backups, standbys and point-in-time recovery (upstream walmgr3)',
    )
    .version(packageVersion, '-V, --version')
    .argument('<ini>', 'walmgr config file ([walmgr] section)')
    .argument('<command>', 'one of the commands below')
    .argument('[args...]', "the command's arguments")
    .option('-n, --not-really', 'only log what would be done')
    .option('-q, --quiet', 'log only warnings and errors')
    .option('-v, --verbose', 'log debug lines too')
    .option('--label <text>', 'backup: the backup label (ours)')
    .option('--recovery-target-time <time>', 'restore: recover up to this time (ours)')
    .option('--recovery-target-lsn <lsn>', 'restore: recover up to this WAL position (ours)')
    .option('--recovery-target-xid <xid>', 'restore: recover up to this transaction (ours)')
    .option('--recovery-target-name <name>', 'restore: recover up to this restore point (ours)')
    .option('--recovery-target-exclusive', 'restore: stop just before the target (ours)')
    .addOption(
      new Option('--recovery-target-action <action>', 'restore: at the target (ours)').choices([
        'promote',
        'pause',
        'shutdown',
      ]),
    )
    .option(
      '--check-table <table>',
      'drill: count the rows of this table (schema.name; repeatable) (ours)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--keep', 'drill: keep the scratch directory (ours)')
    .option(
      '--recovery',
      'restore: recover to the end of the archive and promote, not a standby (ours)',
    )
    .addHelpText(
      'after',
      `\nCommands:\n${list}\n\nThe archive_command that setup writes runs: node bin/walmgr.js INI xarchive %p %f`,
    )
    .showHelpAfterError()
    .action(async (ini: string, command: string, args: string[], flags: Flags) => {
      process.exitCode = await run(ini, command, args, flags);
    });
}

/** Run with `args` (without node and script); resolves with the exit code. */
export async function runWalmgr(argv: string[], name = 'walmgr'): Promise<number> {
  if (argv.includes('--init-master') || argv.includes('--init-slave')) {
    try {
      if (argv.includes('--init-master') && argv.includes('--init-slave')) {
        throw new WalmgrError('USAGE', 'give one of --init-master and --init-slave', {});
      }
      await initProgram(name).exitOverride().parseAsync(argv, { from: 'user' });
      return 0;
    } catch (error) {
      return reportFailure(name, error);
    }
  }
  if (argv.some((arg) => arg === '--synch-standby' || arg.startsWith('--synch-standby='))) {
    try {
      await synchStandbyProgram(name).exitOverride().parseAsync(argv, { from: 'user' });
      return 0;
    } catch (error) {
      return reportFailure(name, error);
    }
  }
  let code = 0;
  const program = walmgrProgram(name, async (ini, command, args, flags) => {
    const entry = commands[command];
    if (entry === undefined) {
      throw new WalmgrError(
        'USAGE',
        `unknown command "${command}"; commands: ${Object.keys(commands).join(', ')}`,
        { command },
      );
    }
    const early = createLog({ quiet: flags.quiet === true });
    const settings = loadWalmgrSettings(ini, { warn: (line) => early.warning(line) });
    const log = createLog({
      logfile: settings.logfile,
      quiet: flags.quiet === true,
      verbose: flags.verbose === true,
    });
    if (settings.remote !== undefined && !remoteCommands.has(command)) {
      throw new WalmgrError(
        'WRONG_ROLE',
        `${command} works on the archive, which is on ${settings.remote.host}: run it there with ${settings.remote.config}`,
        { command, host: settings.remote.host },
      );
    }
    code = await entry.run({ settings, log, flags, args });
    return code;
  }).exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    return reportFailure(name, error);
  }
}
