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

export function compileDstQuery(query: string): DstQuery {
  const names: string[] = [];
  const text = query.replace(/%%|%\(([^)]*)\)s|%/g, (whole, name: string | undefined) => {
    if (whole === '%%') return '%';
    if (name === undefined || name === '') {
      throw new SkytoolsError(
        'BAD_CONFIG',
        `dst_query: a "%" must start a %(name)s placeholder or be doubled (%%); in the INI file write %%%% for a literal percent: ${query}`,
        { key: 'dst_query' },
      );
    }
    let index = names.indexOf(name);
    if (index < 0) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  if (text.trim() === '') {
    throw new SkytoolsError('BAD_CONFIG', 'dst_query is empty', { key: 'dst_query' });
  }
  return { text, names };
}

/** The values for one event; a placeholder the event has no field for is an error. */
export function bindDstQuery(
  query: DstQuery,
  params: EventParams,
  eventId: string,
): (string | null)[] {
  return query.names.map((name) => {
    const value = params.get(name);
    if (value === undefined) {
      throw new SkytoolsError(
        'MISSING_PARAMETER',
        `dst_query needs %(${name})s but event ${eventId} has no field "${name}" (fields: ${[...params.keys()].join(', ')})`,
        { event: eventId, parameter: name },
      );
    }
    return value;
  });
}
