/**
 * The one place where identifiers and literals are quoted for SQL built at run time.
 * Rules are PostgreSQL's own (`quote_ident` / `quote_literal`), including the `E''` form
 * for literals that contain backslashes.
 */

const plainIdentifier = /^[a-z_][a-z0-9_$]*$/;

/** Quote an identifier only when PostgreSQL needs it; names with a dot stay one identifier. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new TypeError('identifier contains a NUL byte');
  if (plainIdentifier.test(name) && !reservedWords.has(name)) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quote a text value as a SQL literal; `null` becomes the keyword NULL. */
export function quoteLiteral(value: string | null): string {
  if (value === null) return 'NULL';
  if (value.includes('\0')) throw new TypeError('literal contains a NUL byte');
  const body = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${body.replaceAll('\\', '\\\\')}'` : `'${body}'`;
}

/** Quote `schema.name` given as two parts (or an unqualified name). */
export function quoteQualified(schema: string | null, name: string): string {
  return schema === null ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

// Reserved keywords that cannot be bare identifiers in any position (PostgreSQL's
// "reserved" category); unreserved keywords are safe unquoted.
const reservedWords = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast ' +
    'check collate collation column concurrently constraint create cross current_catalog ' +
    'current_date current_role current_schema current_time current_timestamp current_user ' +
    'default deferrable desc distinct do else end except false fetch for foreign freeze from ' +
    'full grant group having ilike in initially inner intersect into is isnull join lateral ' +
    'leading left like limit localtime localtimestamp natural not notnull null offset on only ' +
    'or order outer overlaps placing primary references returning right select session_user ' +
    'similar some symmetric system_user table tablesample then to trailing true union unique ' +
    'user using variadic verbose when where window with'
  ).split(' '),
);
