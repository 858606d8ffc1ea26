// Build step after tsc: writes dist/sql/<schema>.sql for every schema that has SQL.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeSqlBundles } from '../dist/db/sql-bundle.js';
import { knownSchemas } from '../dist/db/sql-files.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const present = knownSchemas.filter((schema) => existsSync(`${root}sql/${schema}/install.list`));
for (const file of writeSqlBundles(`${root}dist/sql`, present)) console.log(`wrote ${file}`);
