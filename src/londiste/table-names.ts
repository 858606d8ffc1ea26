/**
 * Table and sequence names as Londiste stores them in `londiste.table_info`: `schema.name`,
 * case kept, no SQL lower-casing (decisions.md: `public.MixedCase` is the table "MixedCase");
 * no schema means `public`. Globs (`*`, `?`) match these stored names.
 */
import { quoteIdent } from '../db/quote.js';

/** `name` with `public.` added when it has no schema; the rest kept as written. */
export function fqname(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

/** The schema and the name of a stored name (split at the first dot, as upstream). */
export function splitFqname(name: string): { schema: string; name: string } {
  const full = fqname(name);
  const dot = full.indexOf('.');
  return { schema: full.slice(0, dot), name: full.slice(dot + 1) };
}

/** The stored name as SQL: `"schema"."name"`. */
export function quoteFqname(name: string): string {
  const { schema, name: relname } = splitFqname(name);
  return `${quoteIdent(schema)}.${quoteIdent(relname)}`;
}

/** Whether a command-line word is a glob rather than one name. */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** A glob over stored names (`public.*`, `*.log_?`); no schema in it means `public`. */
export function globMatcher(pattern: string): (name: string) => boolean {
  const full = fqname(pattern);
  const source = full
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${source}$`, 's');
  return (name) => re.test(name);
}
