import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkytoolsError } from '../errors.js';

/** The `sql/` folder of the package (beside both `src/` and `dist/`). */
export const sqlRoot = fileURLToPath(new URL('../../sql/', import.meta.url));

/** Schemas we ship, in dependency order. */
export const knownSchemas = ['pgq', 'pgq_ext', 'pgq_coop', 'pgq_node', 'londiste'] as const;

export type SchemaName = (typeof knownSchemas)[number];

/**
 * Schemas each schema needs in the same database (installed already, or named in the same
 * install). pgq_ext needs none: it goes into a remote consumer's target database.
 */
export const schemaRequires: Readonly<Record<string, readonly string[]>> = {
  pgq_coop: ['pgq'],
  pgq_node: ['pgq'],
  londiste: ['pgq', 'pgq_node'],
};

/**
 * The files of one schema in load order, as its `install.list` names them: one path per line,
 * relative to `sql/<schema>/`, `#` starts a comment, and `dir/*.sql` stands for the files of
 * that folder in name order. Function bodies are not checked at load time (see
 * {@link schemaSql}), so functions may come in any order among themselves.
 */
export function schemaFiles(schema: string): string[] {
  const dir = path.join(sqlRoot, schema);
  const listFile = path.join(dir, 'install.list');
  if (!existsSync(listFile)) {
    throw new SkytoolsError(
      'UNKNOWN_SCHEMA',
      `no SQL for schema "${schema}" (missing ${listFile})`,
      {
        schema,
      },
    );
  }
  return readFileSync(listFile, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '')
    .flatMap((line) => expandEntry(dir, line));
}

function expandEntry(dir: string, entry: string): string[] {
  if (!entry.endsWith('/*.sql')) return [path.join(dir, entry)];
  const folder = path.join(dir, entry.slice(0, -'/*.sql'.length));
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => path.join(folder, name));
}

/**
 * One schema's whole install script: its files concatenated in load order, each after a
 * `-- file:` marker. Run it with `check_function_bodies = off` (as pg_dump output does) so
 * a SQL function may refer to one defined in a later file.
 */
export function schemaSql(schema: string): string {
  return schemaFiles(schema)
    .map((file) => `-- file: ${path.relative(sqlRoot, file)}\n${readFileSync(file, 'utf8')}`)
    .join('\n');
}

/**
 * What `<schema>.skytools_version()` returns once this package's SQL is installed (e.g.
 * `skytools 0.1.0 schema 1`), read from the function's file.
 */
export function shippedVersion(schema: string): string {
  const file = path.join(sqlRoot, schema, 'functions', `${schema}.skytools_version.sql`);
  const found = /'(skytools \d[^']*)'/.exec(readFileSync(file, 'utf8'));
  if (found?.[1] === undefined) {
    throw new SkytoolsError('UNKNOWN_SCHEMA', `no version literal in ${file}`, { schema });
  }
  return found[1];
}
