import { Command, Option } from 'commander';
import { connectClient } from '../db/connect.js';
import { type InstallResult, installSchemas } from '../db/installer.js';
import { knownSchemas } from '../db/sql-files.js';

export function installCommand(): Command {
  return new Command('install')
    .description(
      `install or upgrade schemas in one transaction (${knownSchemas.join(', ')}); re-running is safe`,
    )
    .argument('<schema...>', 'schemas to install')
    .addOption(
      new Option(
        '--db <connstr>',
        'database: libpq "key=value" string or URL (default: PGHOST, PGPORT, PGUSER, PGDATABASE, ...)',
      ),
    )
    .action(async (schemas: string[], opts: { db?: string }) => {
      const client = await connectClient(opts.db, 'skytools install');
      try {
        for (const result of await installSchemas(client, schemas)) {
          process.stdout.write(`${describe(result)}\n`);
          for (const notice of result.notices)
            process.stderr.write(`${result.schema}: notice: ${notice}\n`);
        }
      } finally {
        await client.end();
      }
    });
}

function describe(result: InstallResult): string {
  if (result.previous === null) return `${result.schema}: installed ${result.current}`;
  if (result.previous === result.current)
    return `${result.schema}: already at ${result.current}, refreshed`;
  return `${result.schema}: upgraded ${result.previous} -> ${result.current}`;
}
