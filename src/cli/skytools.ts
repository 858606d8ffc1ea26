import { Command } from 'commander';
import { packageVersion } from '../version.js';
import { bundledTools } from './bundled-tools.js';
import { clusterCommand } from './cluster.js';
import { demoCommand } from './demo.js';
import { installCommand } from './install.js';
import { runLondiste } from './londiste.js';
import {
  dashboardCommand,
  isMuninPluginName,
  metricsCommand,
  muninCommand,
  runMuninPlugin,
} from './monitor.js';
import { reportFailure } from './output.js';
import { runPgqd } from './pgqd.js';
import { runQadmin } from './qadmin.js';
import { runScriptmgr } from './scriptmgr.js';
import { runSet } from './set.js';
import { runSimpleConsumer } from './simple-consumer.js';
import { runSimpleLocalConsumer } from './simple-local-consumer.js';
import { upgradeCommand } from './upgrade.js';
import { runWalmgr } from './walmgr.js';

/** The `skytools` command: one entry point, one subcommand per tool. */
export function skytoolsProgram(): Command {
  const program = new Command('skytools')
    .description(
      'SkyTools for Node.js: PgQ queues, ticker, cascading, Londiste and walmgr on plain PostgreSQL',
    )
    .version(packageVersion, '-V, --version')
    .showHelpAfterError()
    .addCommand(installCommand())
    .addCommand(upgradeCommand())
    .addCommand(clusterCommand())
    .addCommand(demoCommand())
    .addCommand(metricsCommand())
    .addCommand(dashboardCommand())
    .addCommand(muninCommand())
    .addCommand(
      new Command('pgqd')
        .description('the PgQ ticker and maintenance daemon (same as the pgqd bin)')
        .helpOption(false)
        .allowUnknownOption()
        .allowExcessArguments(),
    )
    .addCommand(passThrough('set', 'the cascade admin (same as the setadm bin)'))
    .addCommand(passThrough('londiste', 'table replication (same as the londiste bin)'))
    .addCommand(passThrough('walmgr', 'WAL archive, base backups, PITR (same as the walmgr bin)'))
    .addCommand(passThrough('simple_consumer', 'run dst_query per queue event (same as the bin)'))
    .addCommand(
      passThrough(
        'simple_local_consumer',
        'simple_consumer with a local tracking file (same as the bin)',
      ),
    )
    .addCommand(passThrough('qadmin', 'the PgQ console (same as the qadmin bin)'))
    .addCommand(passThrough('scriptmgr', 'start and stop many jobs (same as the scriptmgr bin)'));
  for (const tool of bundledTools) program.addCommand(passThrough(tool.name, tool.description));
  return program;
}

function passThrough(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments();
}

export async function main(argv: string[]): Promise<void> {
  // Munin runs the plugin by its link's name (`pgq_<queue>`), with the mode as argument.
  if (isMuninPluginName(argv[1])) process.exit(await runMuninPlugin(argv));
  // `skytools pgqd ...` is the pgqd bin itself, switches and all.
  if (argv[2] === 'pgqd') process.exit(await runPgqd(argv.slice(3)));
  if (argv[2] === 'set') process.exit(await runSet(argv.slice(3), 'skytools set'));
  if (argv[2] === 'londiste') process.exit(await runLondiste(argv.slice(3), 'skytools londiste'));
  if (argv[2] === 'walmgr') process.exit(await runWalmgr(argv.slice(3), 'skytools walmgr'));
  if (argv[2] === 'simple_consumer') process.exit(await runSimpleConsumer(argv.slice(3)));
  if (argv[2] === 'simple_local_consumer') {
    process.exit(await runSimpleLocalConsumer(argv.slice(3)));
  }
  const bundled = bundledTools.find((tool) => tool.name === argv[2]);
  if (bundled) process.exit(await bundled.run(argv.slice(3)));
  if (argv[2] === 'qadmin') process.exit(await runQadmin(argv.slice(3)));
  if (argv[2] === 'scriptmgr') process.exit(await runScriptmgr(argv.slice(3)));
  const program = skytoolsProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportFailure('skytools', error);
  }
}
