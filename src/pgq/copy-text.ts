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

const unescapes: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** One field of a COPY text row back to its value (`\N` is null), as the server reads it. */
export function parseCopyField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/gs, (_whole, code: string) => {
    if (code[0] === 'x' && code.length > 1)
      return String.fromCharCode(Number.parseInt(code.slice(1), 16));
    if (/^[0-7]/.test(code)) return String.fromCharCode(Number.parseInt(code, 8));
    return unescapes[code] ?? code;
  });
}

/** A COPY text row (without its newline) as its values. */
export function parseCopyLine(line: string): (string | null)[] {
  return line.split('\t').map(parseCopyField);
}
