import { Command } from 'commander';
import { packageVersion } from '../version.js';
import { bundledTools } from './bundled-tools.js';
import { clusterCommand } from './cluster.js';
import { demoCommand } from './demo.js';
import { installCommand } from './install.js';
import {
  dashboardCommand,
  isMuninPluginName,
  metricsCommand,
  muninCommand,
  runMuninPlugin,
} from './monitor.js';
import { reportFailure } from './output.js';
import { upgradeCommand } from './upgrade.js';

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

type ToolRunner = (args: string[]) => Promise<number>;

const passThroughTools: Readonly<Record<string, () => Promise<ToolRunner>>> = {
  pgqd: async () => (await import('./pgqd.js')).runPgqd,
  set: async () => {
    const { runSet } = await import('./set.js');
    return (args) => runSet(args, 'skytools set');
  },
  londiste: async () => {
    const { runLondiste } = await import('./londiste.js');
    return (args) => runLondiste(args, 'skytools londiste');
  },
  walmgr: async () => {
    const { runWalmgr } = await import('./walmgr.js');
    return (args) => runWalmgr(args, 'skytools walmgr');
  },
  simple_consumer: async () => (await import('./simple-consumer.js')).runSimpleConsumer,
  simple_local_consumer: async () =>
    (await import('./simple-local-consumer.js')).runSimpleLocalConsumer,
  qadmin: async () => (await import('./qadmin.js')).runQadmin,
  scriptmgr: async () => (await import('./scriptmgr.js')).runScriptmgr,
};

export async function main(argv: string[]): Promise<void> {
  // Munin runs the plugin by its link's name (`pgq_<queue>`), with the mode as argument.
  if (isMuninPluginName(argv[1])) process.exit(await runMuninPlugin(argv));
  // The tools that are bins of their own run as those bins, switches and all; each is loaded
  // only when asked for, so one command does not pay for loading every other.
  const tool =
    argv[2] !== undefined && Object.hasOwn(passThroughTools, argv[2])
      ? passThroughTools[argv[2]]
      : undefined;
  if (tool) process.exit(await (await tool())(argv.slice(3)));
  const bundled = bundledTools.find((each) => each.name === argv[2]);
  if (bundled) process.exit(await bundled.run(argv.slice(3)));
  const program = skytoolsProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportFailure('skytools', error);
  }
}
