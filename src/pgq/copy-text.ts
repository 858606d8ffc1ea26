import { SkytoolsError } from '../errors.js';

// COPY's text format: backslash, newline, carriage return and tab are the only characters
// that need escaping inside a field; everything else (unicode included) goes as is.
const needsEscape = /[\\\n\r\t\0]/;
const escapable = /[\\\n\r\t\0]/g;
const escapes: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One field of a COPY text row; `null` is `\N`. PostgreSQL text cannot hold a NUL. */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  if (!needsEscape.test(value)) return value;
  return value.replace(escapable, (ch) => {
    const escaped = escapes[ch];
    if (escaped === undefined) {
      throw new SkytoolsError('BAD_EVENT', 'event text contains a NUL character (\\u0000)', {});
    }
    return escaped;
  });
}
