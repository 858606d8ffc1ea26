/**
 * `dst_query` with upstream's placeholders: `%(name)s` names an event parameter, `%%` is a
 * percent sign (after INI interpolation, so a file says `%%(pgq.ev_data)s`). Each placeholder
 * becomes a bind parameter (`$1`, ...), never text pasted into the SQL, so no value can change
 * the statement.
 */
import { SkytoolsError } from '../errors.js';
import type { EventParams } from './payload.js';

export interface DstQuery {
  /** The statement with `$n` parameters. */
  readonly text: string;
  /** Parameter names, `$1` first; a name used twice shares one parameter. */
  readonly names: readonly string[];
}

/** `key` names the INI key in errors (dst_query; data_maintainer's sql_modify, ...). */
export function compileDstQuery(query: string, key = 'dst_query'): DstQuery {
  const names: string[] = [];
  const text = query.replace(/%%|%\(([^)]*)\)s|%/g, (whole, name: string | undefined) => {
    if (whole === '%%') return '%';
    if (name === undefined || name === '') {
      throw new SkytoolsError(
        'BAD_CONFIG',
        `${key}: a "%" must start a %(name)s placeholder or be doubled (%%); in the INI file write %%%% for a literal percent: ${query}`,
        { key },
      );
    }
    let index = names.indexOf(name);
    if (index < 0) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  if (text.trim() === '') {
    throw new SkytoolsError('BAD_CONFIG', `${key} is empty`, { key });
  }
  return { text, names };
}

/**
 * The values for one event (or another subject: `what` names it, e.g. `row 12`, and `key`
 * the statement's INI key); a placeholder it has no field for is an error.
 */
export function bindDstQuery(
  query: DstQuery,
  params: EventParams,
  eventId: string,
  { key = 'dst_query', what = `event ${eventId}` }: { key?: string; what?: string } = {},
): (string | null)[] {
  return query.names.map((name) => {
    const value = params.get(name);
    if (value === undefined) {
      throw new SkytoolsError(
        'MISSING_PARAMETER',
        `${key} needs %(${name})s but ${what} has no field "${name}" (fields: ${[...params.keys()].join(', ')})`,
        { event: eventId, parameter: name, key },
      );
    }
    return value;
  });
}
