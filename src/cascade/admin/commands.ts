/**
 * The cascade admin commands (`setadm`, and every tool built on the cascade, Londiste's
 * cascade commands included): their arguments, help and what each runs. One table, so
 * argument checks, `--help COMMAND` and the pidfile rule cannot drift apart. The commands
 * that change the cascade's shape import their code when they run: a tool starting for
 * another command does not load it.
 */
import { SkytoolsError } from '../../errors.js';
import type { CommandContext, ToolCommand, ToolOption } from '../tool.js';
import { members, nodeInfo, nodeStatus } from './info.js';
import { setPaused } from './pause.js';
import type { AdminSettings } from './settings.js';
import { status } from './status.js';
import { tagDead } from './tag-dead.js';
import { waitForProvider, waitForRoot } from './wait.js';

/** The switches the admin commands read. */
export interface AdminFlags {
  dryRun?: boolean;
  provider?: string;
  worker?: string;
  node?: string;
  consumer?: string;
  merge?: string;
  dead: string[];
  deadRoot?: boolean;
  deadBranch?: boolean;
  all?: boolean;
  force?: boolean;
  syncWatermark?: string;
  nocheck?: boolean;
  compact?: boolean;
  timeout?: string;
  dumpFile?: string;
}

type AdminCommand = ToolCommand<AdminSettings, AdminFlags>;
type Context = CommandContext<AdminSettings, AdminFlags>;

const dryRunHelp = '  --dry-run             print the changes it would make, change nothing';
const timeoutHelp =
  '  --timeout SECONDS     give up waiting for the worker after this long (default: no limit)';

function timeout(flags: AdminFlags): number | undefined {
  if (flags.timeout === undefined) return undefined;
  const value = Number(flags.timeout);
  if (!Number.isFinite(value) || value < 0) {
    throw new SkytoolsError(
      'BAD_OPTION',
      `--timeout must be a number of seconds, not "${flags.timeout}"`,
    );
  }
  return value;
}

function need(value: string | undefined, message: string): string {
  if (value === undefined || value === '') throw new SkytoolsError('USAGE', message);
  return value;
}

/** NAME and PUBLIC_CONNSTR from the arguments or the INI keys node_name / public_node_location. */
function nodeArgs(ctx: Context, args: string[]) {
  const name = need(
    args[0] ?? ctx.settings.nodeName,
    'Node name must be given either in command line or config',
  );
  const location = need(
    args[1] ?? ctx.settings.publicLocation,
    'Node location must be given either in command line or config',
  );
  // A config without a file has no job name to fall back on: name the worker after the node.
  const worker =
    ctx.flags.worker ??
    ctx.settings.workerName ??
    (ctx.settings.file ? ctx.settings.jobName : `${name}_worker`);
  return {
    name,
    location,
    worker,
    nocheck: ctx.flags.nocheck,
    extraConnstr: ctx.settings.extraConnstr,
  };
}

function subscriberCommand(type: 'branch' | 'leaf'): AdminCommand {
  const merge = type === 'leaf' ? ' [--merge=QUEUE]' : ' [--sync-watermark=NODE,NODE]';
  return {
    name: `create-${type}`,
    args: ['NAME?', 'PUBLIC_CONNSTR?'],
    summary: `make the local database a ${type} node below --provider`,
    help: [
      `Usage: %TOOL% CONFIG create-${type} NAME [PUBLIC_CONNSTR] --provider=CONNSTR${merge}`,
      '',
      `Installs schemas pgq and pgq_node if missing, registers the node on the root and on the`,
      `provider, subscribes it there (it starts at the global watermark), copies the member list`,
      `and creates the ${type}. NAME, PUBLIC_CONNSTR and the provider may come from the INI keys`,
      'node_name, public_node_location and initial_provider_location.',
      '',
      '  --provider CONNSTR    connect string of the provider (a root or branch of the queue)',
      '  --worker NAME         worker name (default: worker_name, job_name, or NAME_worker)',
      type === 'leaf'
        ? '  --merge QUEUE         merge-leaf: copy events into this root/branch queue of the local db'
        : '  --sync-watermark N,M  keep the watermark in step with these branches (for takeover)',
      '  --nocheck             skip the check that PUBLIC_CONNSTR reaches the local database',
      dryRunHelp,
    ].join('\n'),
    async run(ctx: Context, args: string[]) {
      const node = nodeArgs(ctx, args);
      const provider = need(
        ctx.flags.provider ?? ctx.settings.initialProvider,
        'Provider location must be given either in command line (--provider) or config',
      );
      const { createSubscriber } = await import('./create-node.js');
      await createSubscriber(ctx.session, {
        ...node,
        type,
        provider,
        merge: ctx.flags.merge,
        syncWatermark: ctx.flags.syncWatermark
          ?.split(',')
          .map((n) => n.trim())
          .filter(Boolean),
      });
    },
  };
}

const targetHelp = [
  '  --node NAME           the node whose worker to act on (default: the local node)',
  "  --consumer NAME       a cascaded consumer instead of the node's worker",
];

export const adminCommands: AdminCommand[] = [
  {
    name: 'create-root',
    args: ['NAME?', 'PUBLIC_CONNSTR?'],
    summary: 'make the local database the root node of the queue',
    help: [
      'Usage: %TOOL% CONFIG create-root NAME [PUBLIC_CONNSTR]',
      '',
      'Installs schemas pgq and pgq_node if missing, registers the location and creates the',
      'root node (and the queue). Refuses a database that is already a node of the queue.',
      '',
      '  --worker NAME         worker name (default: worker_name, job_name, or NAME_worker)',
      '  --nocheck             skip the check that PUBLIC_CONNSTR reaches the local database',
      dryRunHelp,
    ].join('\n'),
    async run(ctx: Context, args: string[]) {
      const { createRoot } = await import('./create-node.js');
      await createRoot(ctx.session, nodeArgs(ctx, args));
    },
  },
  subscriberCommand('branch'),
  subscriberCommand('leaf'),
  {
    name: 'status',
    args: [],
    summary: 'the cascade as a tree: lag, tick, PAUSED / NOT UPTODATE, errors per node',
    help: [
      'Usage: %TOOL% CONFIG status [--compact]',
      '',
      'Reads every member in parallel. A member that does not answer is shown as unreachable,',
      'one tagged dead (or given with --dead) is not contacted.',
      '',
      '  --compact             one line per node',
    ].join('\n'),
    readOnly: true,
    async run(ctx: Context) {
      await status(ctx.session, { compact: ctx.flags.compact, color: ctx.color });
    },
  },
  {
    name: 'node-status',
    args: [],
    summary: 'the local node with its provider and subscribers',
    help: 'Usage: %TOOL% CONFIG node-status',
    readOnly: true,
    async run(ctx: Context) {
      await nodeStatus(ctx.session, ctx.color);
    },
  },
  {
    name: 'members',
    args: [],
    summary: 'the member list of the local node: name, dead, location',
    help: 'Usage: %TOOL% CONFIG members',
    readOnly: true,
    async run(ctx: Context) {
      await members(ctx.session);
    },
  },
  {
    name: 'node-info',
    args: [],
    summary: 'summary of the local node (status OK / PAUSED / NON-UP-TO-DATE / DEAD)',
    help: 'Usage: %TOOL% CONFIG node-info',
    readOnly: true,
    async run(ctx: Context) {
      await nodeInfo(ctx.session);
    },
  },
  ...(['pause', 'resume'] as const).map(
    (name): AdminCommand => ({
      name,
      args: [],
      summary: `${name} a node's worker (or a cascaded consumer) and wait until it acknowledged`,
      help: [
        `Usage: %TOOL% CONFIG ${name} [--node=NAME | --consumer=NAME]`,
        '',
        `Sets the paused flag on the target node, then waits until the worker has seen it.`,
        '',
        ...targetHelp,
        timeoutHelp,
        dryRunHelp,
      ].join('\n'),
      async run(ctx: Context) {
        const { node, consumer } = ctx.flags;
        await setPaused(ctx.session, { node, consumer }, name === 'pause', {
          timeoutSeconds: timeout(ctx.flags),
        });
      },
    }),
  ),
  {
    name: 'change-provider',
    args: [],
    summary: 'move a node (or a cascaded consumer) to read from another member',
    help: [
      'Usage: %TOOL% CONFIG change-provider --provider=NODE [--node=NAME | --consumer=NAME]',
      '',
      'Pauses the target, subscribes it on the new provider at its last tick, switches, resumes',
      'it and unsubscribes it from the old provider. Refuses a node as its own provider, a',
      'provider that is not a member, a leaf, or one that reads from the target.',
      '',
      '  --provider NODE       name of the new provider',
      ...targetHelp,
      timeoutHelp,
      dryRunHelp,
    ].join('\n'),
    async run(ctx: Context) {
      const provider = need(ctx.flags.provider, 'change-provider needs --provider=NODE');
      const { changeProvider } = await import('./change-provider.js');
      await changeProvider(ctx.session, {
        node: ctx.flags.node,
        consumer: ctx.flags.consumer,
        provider,
        timeoutSeconds: timeout(ctx.flags),
      });
    },
  },
  {
    name: 'tag-dead',
    args: ['NODE'],
    summary: 'mark a node dead on every member that answers',
    help: ['Usage: %TOOL% CONFIG tag-dead NODE', '', dryRunHelp].join('\n'),
    async run(ctx: Context, args: string[]) {
      await tagDead(ctx.session, args[0] as string);
    },
  },
  {
    name: 'drop-node',
    args: ['NAME'],
    summary: 'remove a node from the cascade (refused while it has subscribers)',
    help: [
      'Usage: %TOOL% CONFIG drop-node NAME',
      '',
      'Drops the node on itself, unsubscribes it on its provider, unregisters it on the root',
      'and on every member. Refuses a node that still has subscribers.',
      '',
      dryRunHelp,
    ].join('\n'),
    async run(ctx: Context, args: string[]) {
      const { dropNode } = await import('./drop-node.js');
      await dropNode(ctx.session, args[0] as string);
    },
  },
  ...(['wait-root', 'wait-provider'] as const).map(
    (name): AdminCommand => ({
      name,
      args: [],
      summary: `wait until the local node has what the ${name.slice(5)} has now`,
      help: [
        `Usage: %TOOL% CONFIG ${name} [--timeout=SECONDS]`,
        '',
        `Polls until the local worker has completed the last tick the ${name.slice(5)} had when the`,
        'command started, or the next one when the root holds events not ticked yet (so whatever',
        'was committed on the root before the command has arrived). Returns at once on the root.',
        '',
        '  --timeout SECONDS     give up after this long, exit 1 (default: no limit)',
      ].join('\n'),

      async run(ctx: Context) {
        const options = { timeoutSeconds: timeout(ctx.flags) };
        if (name === 'wait-root') await waitForRoot(ctx.session, options);
        else await waitForProvider(ctx.session, options);
      },
    }),
  ),
  {
    name: 'takeover',
    args: ['OLD'],
    summary: 'make the local node take the place of OLD (switchover or failover)',
    help: [
      'Usage: %TOOL% CONFIG takeover OLD [--all] [--dead-root | --dead-branch] [--force]',
      '',
      'Run on the node that takes over. See docs/cascade-takeover.md.',
      '',
      '  --all                 also move all subscribers of OLD to the local node',
      '  --dead-root           failover: OLD is a root that is gone',
      '  --dead-branch         OLD is a branch that is gone',
      '  --dead NODE           treat NODE as unreachable for this run (repeatable)',
      '  --force               take over even if the local node is behind',
      dryRunHelp,
    ].join('\n'),
    async run(ctx: Context, args: string[]) {
      const { takeover } = await import('./takeover.js');
      await takeover(ctx.session, {
        oldNode: args[0] as string,
        all: ctx.flags.all,
        deadRoot: ctx.flags.deadRoot,
        deadBranch: ctx.flags.deadBranch,
        force: ctx.flags.force,
      });
    },
  },
  {
    name: 'resurrect',
    args: [],
    summary: 'bring a failed-over old root back as a branch of the new root',
    help: [
      'Usage: %TOOL% CONFIG resurrect [--dump-file=FILE]',
      '',
      'Run on the old root. See docs/cascade-takeover.md.',
      '',
      '  --dump-file FILE      where the lost events are written (default resurrect-lost-events.json)',
      dryRunHelp,
    ].join('\n'),
    async run(ctx: Context) {
      const { resurrect } = await import('./resurrect.js');
      await resurrect(ctx.session, { dumpFile: ctx.flags.dumpFile });
    },
  },
];

export const workerHelp = [
  'Usage: %TOOL% CONFIG worker [-d] | -s | -k | -r',
  '',
  "Runs the node's cascaded worker as a long-running job: on a branch it copies events and",
  'ticks from the provider, on every node it keeps watermarks moving and applies cascade',
  'events. For cascades without Londiste this is the process to keep running on each node.',
  '',
  '  -d, --daemon          run in the background (needs pidfile)',
  '  -s, --stop            stop the running worker gracefully (SIGINT: finish the batch)',
  '  -k, --kill            stop it at once (SIGTERM: leave the batch)',
  '  -r, --reload          make it re-read its config (SIGHUP)',
].join('\n');

const repeat = (value: string, previous: string[]) => [...previous, value];

/** The switches of the admin commands above, as every cascade tool offers them. */
export const adminOptions: ToolOption[] = [
  {
    flags: '--provider <connstr|node>',
    description: 'create-branch/leaf: provider connect string; change-provider: node name',
  },
  { flags: '--worker <name>', description: 'create-*: the worker name' },
  { flags: '--node <name>', description: 'pause/resume/change-provider: the target node' },
  {
    flags: '--consumer <name>',
    description: 'pause/resume/change-provider: a cascaded consumer as target',
  },
  { flags: '--target <name>', description: 'accepted for compatibility, unused' },
  { flags: '--merge <queue>', description: 'create-leaf: merge into this local queue' },
  {
    flags: '--dead <node>',
    description: 'treat the node as dead for this run (repeatable)',
    parse: repeat,
    defaultValue: [],
  },
  { flags: '--dead-root', description: 'takeover: the old root is dead (failover)' },
  { flags: '--dead-branch', description: 'takeover: the old branch is dead' },
  { flags: '--all', description: 'takeover: move all subscribers of the old node too' },
  { flags: '--force', description: 'takeover: even when the local node is behind' },
  {
    flags: '--sync-watermark <nodes>',
    description: 'create-branch: comma-separated branches to keep in step with',
  },
  { flags: '--nocheck', description: 'create-*: skip the public connect string check' },
  { flags: '--compact', description: 'status: one line per node' },
  {
    flags: '--timeout <seconds>',
    description: 'pause/resume/change-provider/wait-*: waiting limit',
  },
  { flags: '--dump-file <file>', description: 'resurrect: where to write the lost events' },
];
