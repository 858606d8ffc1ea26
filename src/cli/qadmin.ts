/**
 * The `qadmin` command (also `skytools qadmin`): upstream's switches (-h -p -U -d, a
 * database name, -Q, -c, -f), with -d also taking a libpq connect string or URL. Exit codes:
 * 0 = done; 1 = a statement failed (-c, -f, piped input), or no connection; 2 = a bug.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { type ConnectionConfig, parseConnString } from '../db/connstring.js';
import { SkytoolsError } from '../errors.js';
import { QadminSession, requireQueue, runConsole, runScript } from '../qadmin/index.js';
import { packageVersion } from '../version.js';
import { parsePort, reportFailure } from './output.js';

interface Flags {
  host?: string;
  port?: string;
  user?: string;
  dbname?: string;
  queue?: string;
  command?: string;
  file?: string;
}

function program(): Command {
  return new Command('qadmin')
    .description('interactive console for PgQ queues, consumers, cascade nodes and Londiste tables')
    .usage('[options] [dbname]')
    .argument('[dbname]', 'database to connect to')
    .helpOption('--help', 'show this help')
    .option('-h, --host <host>', 'server host (default: PGHOST)')
    .option('-p, --port <port>', 'server port (default: PGPORT)')
    .option('-U, --user <user>', 'user name (default: PGUSER)')
    .option(
      '-d, --dbname <db>',
      'database name, or a libpq connect string or URL (default: PGDATABASE)',
    )
    .option('-Q, --queue <queue>', 'the queue commands use when they name none')
    .option('-c, --command <cmds>', 'run these ";"-separated commands and exit')
    .option('-f, --file <file>', 'run the commands in this file and exit')
    .version(`qadmin version ${packageVersion}`, '-V, --version', 'print the version and exit')
    .addHelpText(
      'after',
      '\nIn the console, "show help;" lists the commands. Manual: docs/qadmin.md.',
    )
    .showHelpAfterError()
    .exitOverride();
}

function connectionOf(flags: Flags, dbname: string | undefined): ConnectionConfig {
  const given = flags.dbname;
  const config: ConnectionConfig =
    given !== undefined && (given.includes('=') || /^postgres(ql)?:\/\//.test(given))
      ? parseConnString(given)
      : given !== undefined
        ? { database: given }
        : {};
  if (dbname !== undefined && config.database === undefined) config.database = dbname;
  if (flags.host !== undefined) config.host = flags.host;
  if (flags.port !== undefined) config.port = parsePort(flags.port);
  if (flags.user !== undefined) config.user = flags.user;
  return config;
}

/** Run qadmin with `args` (without node and script); resolves with the exit code. */
export async function runQadmin(args: string[]): Promise<number> {
  const command = program();
  let session: QadminSession;
  let flags: Flags;
  try {
    await command.parseAsync(args, { from: 'user' });
    flags = command.opts<Flags>();
    session = new QadminSession(connectionOf(flags, command.args[0]), flags.queue ?? null);
  } catch (error) {
    return reportFailure('qadmin', error);
  }
  try {
    const script = flags.file !== undefined ? readScript(flags.file) : flags.command;
    await session.connect();
    if (flags.queue !== undefined) await requireQueue(session, flags.queue);
    if (flags.command !== undefined && flags.file !== undefined) {
      const code = await runScript(session, flags.command);
      return code !== 0 ? code : await runScript(session, script ?? '');
    }
    if (script !== undefined) return await runScript(session, script);
    return await runConsole(session);
  } catch (error) {
    return reportFailure('qadmin', error);
  } finally {
    await session.close();
  }
}

function readScript(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    throw new SkytoolsError(
      'BAD_OPTION',
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { file },
    );
  }
}
