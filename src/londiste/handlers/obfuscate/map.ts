/**
 * The obfuscator_map file (INI key of the obfuscate handler): YAML, one mapping per table
 * (`schema.name`, as Londiste names it) of column -> rule (rules.ts), e.g.
 *
 *   public.users:
 *     id: keep
 *     email: hash
 *     profile: {country: keep, age: hash32}
 *
 * Read and checked when a handler is made (add-table, and the worker's first batch of the
 * table), so a bad file stops add-table instead of replay.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SkytoolsError } from '../../../errors.js';
import { fqname } from '../../table-names.js';
import { checkRule, type RuleMap } from './rules.js';

/** The rules of `table` in the file at `file` (relative: to the working directory). */
export function loadTableRules(file: string, table: string): RuleMap {
  const full = path.resolve(file);
  let doc: unknown;
  try {
    // Loaded here, not at start: only an obfuscate table's handler reads a map.
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = parse(readFileSync(full, 'utf8'));
  } catch (error) {
    throw new SkytoolsError(
      'BAD_CONFIG',
      `obfuscator_map ${full} cannot be read: ${(error as Error).message}`,
      { file: full },
      { cause: error },
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SkytoolsError(
      'BAD_CONFIG',
      `obfuscator_map ${full}: not a mapping of tables to their column rules`,
      { file: full },
    );
  }
  const wanted = fqname(table);
  const entry = Object.entries(doc).find(([name]) => fqname(name) === wanted);
  if (entry === undefined) {
    throw new SkytoolsError(
      'BAD_CONFIG',
      `obfuscator_map ${full} has no rules for table ${wanted}`,
      { file: full, table: wanted },
    );
  }
  const rules = checkRule(entry[1], wanted, full);
  if (typeof rules !== 'object') {
    throw new SkytoolsError(
      'BAD_CONFIG',
      `obfuscator_map ${full}: ${wanted} must map its columns to rules`,
      { file: full, table: wanted },
    );
  }
  return rules;
}
