import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageVersion } from '../version.js';
import { schemaSql } from './sql-files.js';

/**
 * One self-contained install file per schema, for servers where only `psql` is at hand:
 * `psql -1 -f pgq.sql` installs or upgrades it in one transaction, as `skytools install` does
 * (without the installer's up-front privilege checks).
 */
export function sqlBundle(schema: string): string {
  return [
    `-- skytools ${packageVersion}: schema ${schema}. Install or upgrade with: psql -1 -f ${schema}.sql`,
    'set check_function_bodies = off;',
    "select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('skytools.install'));",
    'do $refuse$ begin',
    `  if exists (select 1 from pg_catalog.pg_extension where extname = '${schema}') then`,
    `    raise exception 'the upstream extension ${schema} is installed in this database; skytools will not install over it';`,
    '  end if;',
    'end $refuse$;',
    schemaSql(schema),
  ].join('\n');
}

export function writeSqlBundles(outDir: string, schemas: readonly string[]): string[] {
  mkdirSync(outDir, { recursive: true });
  return schemas.map((schema) => {
    const file = path.join(outDir, `${schema}.sql`);
    writeFileSync(file, sqlBundle(schema));
    return file;
  });
}
