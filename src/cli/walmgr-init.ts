/**
 * walmgr's commands without an INI (spec §7.1): `--init-master ...` / `--init-slave ...`,
 * upstream's INI generation (src/walmgr/init-config.ts), and `--synch-standby=NAMES`.
 */
import { Command } from 'commander';
import { initConfig, writeInitConfig } from '../walmgr/init-config.js';
import { createLog } from '../walmgr/log.js';
import { synchStandby } from '../walmgr/server-settings.js';

interface InitFlags {
  initMaster?: boolean;
  initSlave?: boolean;
  slave?: string;
  pgdata?: string;
  configDir?: string;
  primaryConninfo?: string;
  walmgrData?: string;
  sshKeygen?: boolean;
  sshAddKey?: string;
  addPassword?: string;
  notReally?: boolean;
}

/** `walmgr --init-master ...` / `--init-slave ...`: upstream's INI generation, without an INI. */
export function initProgram(name: string): Command {
  return new Command(name)
    .option('--init-master', 'write <config-dir>/wal-master.ini')
    .option('--init-slave', 'write <config-dir>/wal-slave.ini')
    .option('--slave <host>', 'init-master: the slave host (recorded as slave)')
    .option('--pgdata <dir>', 'the data directory (default $PGDATA)')
    .option('--config-dir <dir>', 'where the INI goes (default ~/conf)')
    .option('--primary-conninfo <connstr>', 'init-slave: primary_conninfo for streaming')
    .option('--walmgr-data <dir>', 'walmgr_data (default ~/walshipping) (ours)')
    .option('--ssh-keygen', 'not supported (remote slaves)')
    .option('--ssh-add-key <file>', 'not supported (remote slaves)')
    .option('--add-password <file>', 'not supported (remote slaves)')
    .option('-n, --not-really', 'print the INI, write nothing')
    .action((flags: InitFlags) => {
      const unsupported = [
        flags.sshKeygen ? '--ssh-keygen' : '',
        flags.sshAddKey ? '--ssh-add-key' : '',
        flags.addPassword ? '--add-password' : '',
      ].filter((flag) => flag !== '');
      const result = initConfig({
        role: flags.initMaster ? 'master' : 'slave',
        ...(flags.pgdata !== undefined ? { pgdata: flags.pgdata } : {}),
        ...(flags.configDir !== undefined ? { configDir: flags.configDir } : {}),
        ...(flags.slave !== undefined ? { slave: flags.slave } : {}),
        ...(flags.primaryConninfo !== undefined ? { primaryConninfo: flags.primaryConninfo } : {}),
        ...(flags.walmgrData !== undefined ? { walmgrData: flags.walmgrData } : {}),
        unsupported,
      });
      if (flags.notReally) {
        process.stdout.write(result.text);
        return;
      }
      writeInitConfig(result);
      process.stderr.write(`wrote ${result.file}\n`);
    });
}

/**
 * `walmgr --synch-standby=NAMES`: `synch-standby` on the server the libpq environment names
 * (`PGHOST`, `PGPORT`, `PGUSER`, ...), or `--master-db` (ours).
 */
export function synchStandbyProgram(name: string): Command {
  return new Command(name)
    .requiredOption('--synch-standby <names>', "synchronous_standby_names ('' turns it off)")
    .option('--master-db <connstr>', 'the master (default: the libpq environment) (ours)')
    .option('-n, --not-really', 'only log what would be done')
    .option('-q, --quiet', 'log only warnings and errors')
    .option('-v, --verbose', 'log debug lines too')
    .action(
      async (flags: {
        synchStandby: string;
        masterDb?: string;
        notReally?: boolean;
        quiet?: boolean;
        verbose?: boolean;
      }) => {
        const log = createLog({ quiet: flags.quiet === true, verbose: flags.verbose === true });
        const result = await synchStandby(
          { masterDb: flags.masterDb, masterRestartCmd: undefined },
          log,
          flags.synchStandby,
          flags.notReally === true,
        );
        if (result.changed.length === 0) log.info('synchronous_standby_names was already set');
      },
    );
}
