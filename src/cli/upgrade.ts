import { Command, Option } from 'commander';
import { type ConnectionSource, openClient } from '../db/connect.js';
import { parseConnString } from '../db/connstring.js';
import type { SchemaState } from '../db/schema-inventory.js';
import {
  type DatabaseReport,
  revisionShipped,
  type SchemaReport,
  type UpgradeOptions,
  upgradeDatabase,
} from '../db/upgrade.js';
import { SkytoolsError } from '../errors.js';
import { reportFailure } from './output.js';

interface UpgradeFlags {
  db?: string;
  all?: boolean;
  apply?: boolean;
  adopt?: boolean;
  notReally?: boolean;
  lockTimeout: string;
}

const applicationName = 'skytools upgrade';

export function upgradeCommand(): Command {
  return new Command('upgrade')
    .description(
      "show the installed schemas and their versions (ours or upstream's); with --apply bring ours to this release, with --adopt convert upstream's PgQ, pgq_node, londiste, pgq_coop and pgq_ext into ours in place",
    )
    .addOption(
      new Option(
        '--db <connstr>',
        'database: libpq "key=value" string or URL (default: PGHOST, PGPORT, PGUSER, PGDATABASE, ...)',
      ),
    )
    .option('--all', 'every database of the server that accepts connections (not templates)')
    .option('--apply', 'upgrade our schemas that are older than this release')
    .option(
      '--adopt',
      "convert upstream's schemas in place, keeping every queue, consumer, tick, event and table",
    )
    .option('-n, --not-really', 'do everything in a transaction that is rolled back')
    .option('--lock-timeout <seconds>', 'give up, changing nothing, after waiting this long', '5')
    .addHelpText(
      'after',
      '\nExit status: 0 when every database was read (and changed as asked), 1 when one failed or refused.',
    )
    .action(async (flags: UpgradeFlags) => {
      const lockTimeoutSeconds = Number(flags.lockTimeout);
      if (!(lockTimeoutSeconds > 0)) {
        throw new SkytoolsError(
          'BAD_OPTION',
          `--lock-timeout must be a positive number of seconds, not "${flags.lockTimeout}"`,
        );
      }
      const options: UpgradeOptions = {
        apply: flags.apply,
        adopt: flags.adopt,
        notReally: flags.notReally,
        lockTimeoutSeconds,
      };
      const targets = flags.all ? await allDatabases(flags.db) : [flags.db];
      let failed = 0;
      for (const target of targets) {
        if (!(await upgradeOne(target, options))) failed += 1;
      }
      if (failed > 0) process.exitCode = 1;
    });
}

/** One database: its report on stdout, or one line on stderr naming it; true when it worked. */
async function upgradeOne(
  target: ConnectionSource | undefined,
  options: UpgradeOptions,
): Promise<boolean> {
  const label = typeof target === 'object' ? target.database : undefined;
  try {
    const client = await openClient(target, { applicationName });
    try {
      const report = await upgradeDatabase(client, options);
      for (const line of describe(report)) process.stdout.write(`${line}\n`);
      return true;
    } catch (error) {
      const database = label ?? (await client.query('select current_database() as d')).rows[0].d;
      if (error instanceof SkytoolsError) {
        process.stderr.write(`skytools upgrade: ${database}: ${error.message}\n`);
        return false;
      }
      throw error;
    } finally {
      await client.end();
    }
  } catch (error) {
    reportFailure(applicationName, error);
    return false;
  }
}

/** The connection settings of every database that accepts connections, by name. */
async function allDatabases(db: string | undefined): Promise<ConnectionSource[]> {
  const client = await openClient(db, { applicationName });
  try {
    const { rows } = await client.query<{ datname: string }>(
      `select datname from pg_catalog.pg_database
        where datallowconn and not datistemplate order by datname`,
    );
    const base = db === undefined ? {} : parseConnString(db);
    return rows.map((row) => ({ ...base, database: row.datname }));
  } finally {
    await client.end();
  }
}

export function describe(report: DatabaseReport): string[] {
  const present = report.schemas.filter((s) => s.state.kind !== 'absent');
  if (present.length === 0) {
    return [`${report.database}: no pgq, pgq_ext, pgq_coop, pgq_node or londiste schema`];
  }
  const lines = present.map(
    (s) => `${report.database}: ${s.state.schema}: ${schemaLine(s, report.notReally)}`,
  );
  if (report.notReally && report.changed) lines.push(`${report.database}: not really: rolled back`);
  for (const s of present) {
    for (const notice of s.result?.notices ?? []) {
      lines.push(`${report.database}: ${s.state.schema}: notice: ${notice}`);
    }
  }
  return lines;
}

function schemaLine(report: SchemaReport, notReally: boolean): string {
  const { state, result, shipped } = report;
  const did = (verb: string, done: string) => (notReally ? `would ${verb}` : done);
  if (result !== undefined) {
    return state.kind === 'ours'
      ? `${did('upgrade', 'upgraded')} ${state.release} -> ${result.current}`
      : `${did('adopt', 'adopted')} ${was(state)} -> ${result.current}`;
  }
  switch (state.kind) {
    case 'ours':
      if (state.release === shipped) return `${state.release}, current`;
      return state.revision < revisionShipped(state.schema)
        ? `${state.release}, older than ${shipped} (--apply upgrades it)`
        : `${state.release}, not older than ${shipped}: left alone`;
    case 'upstream-extension':
    case 'upstream-plain':
      return `${was(state)} (--adopt converts it to ${shipped})`;
    case 'foreign':
      return `a schema of that name that is neither skytools' nor upstream's: left alone`;
    default:
      return 'not installed';
  }
}

function was(state: SchemaState): string {
  if (state.kind === 'upstream-extension') return `upstream extension ${state.version}`;
  if (state.kind === 'upstream-plain') return `upstream schema ${state.version} (plain SQL)`;
  return state.kind;
}
