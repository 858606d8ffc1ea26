/**
 * The dispatch family's `encoding`: the destination's encoding. A value holding characters
 * that encoding cannot store would stop the batch on the server; they are replaced instead
 * (U+FFFD for UTF-8, `?` for the single-byte ones) and each replacement is logged, as
 * upstream's encoding validator does. In UTF-8 what cannot be stored is a NUL character or
 * a lone surrogate (text from a UTF-8 source has no invalid bytes left by the time it is a
 * JavaScript string).
 */

export interface DestEncoding {
  name: 'UTF8' | 'LATIN1' | 'SQL_ASCII';
  /** The value with what the encoding cannot hold replaced, or the same string. */
  clean(value: string): string;
}

/** `value` with each code point `fits` refuses replaced by `by`. */
function replaceChars(value: string, fits: (code: number) => boolean, by: string): string {
  let out = '';
  let changed = false;
  // for..of walks code points; a lone surrogate comes as one code unit of its own.
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (fits(code)) {
      out += ch;
    } else {
      out += by;
      changed = true;
    }
  }
  return changed ? out : value;
}

const isSurrogate = (code: number) => code >= 0xd800 && code <= 0xdfff;

const encodings: Record<string, DestEncoding> = {
  utf8: {
    name: 'UTF8',
    clean: (v) => replaceChars(v, (c) => c !== 0 && !isSurrogate(c), '\ufffd'),
  },
  latin1: { name: 'LATIN1', clean: (v) => replaceChars(v, (c) => c !== 0 && c <= 0xff, '?') },
  sql_ascii: {
    name: 'SQL_ASCII',
    clean: (v) => replaceChars(v, (c) => c !== 0 && c <= 0x7f, '?'),
  },
};
const aliases: Record<string, string> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  unicode: 'utf8',
  latin1: 'latin1',
  'iso-8859-1': 'latin1',
  iso88591: 'latin1',
  iso8859_1: 'latin1',
  sql_ascii: 'sql_ascii',
  ascii: 'sql_ascii',
};

/** The encoding of that name (as PostgreSQL or Python writes it), or null. */
export function checkEncoding(name: string): DestEncoding | null {
  const key = aliases[name.trim().toLowerCase()];
  return key === undefined ? null : (encodings[key] ?? null);
}
