/**
 * A COPY text line made straight from a row's urlencoded values (logutriga inserts), without
 * a decoded string per value: the values are joined as they came, the few encoded bytes COPY
 * must escape are turned into their escapes while still encoded (`%5C` backslash, `%09` tab,
 * `%0A` newline, `%0D` carriage return), and the line is decoded at once. A row this cannot
 * take (a `%` that is no escape, bytes that are not UTF-8, a NUL, raw characters COPY would
 * misread) goes value by value as before, so the line is always what decoding each value and
 * escaping it gives.
 */
import { copyField } from '../../pgq/copy-text.js';
import { decodeComponent } from '../../pgq/urlencode.js';

// Characters no urlencoded value holds raw; one that does is decoded value by value.
const rawSpecial = /[\t\n\r\\]/;
const encodedSpecial = /%(?:5[cC]|0[9aAdD])/g;
const escapeOf: Record<string, string> = {
  '5c': '%5C%5C',
  '09': '%5Ct',
  '0a': '%5Cn',
  '0d': '%5Cr',
};

function escapeEncoded(sequence: string): string {
  return escapeOf[sequence.slice(1).toLowerCase()] as string;
}

/** Whether urlencoded data can go through {@link encodedCopyLine} (no raw special character). */
export function lineSafe(data: string): boolean {
  return !rawSpecial.test(data);
}

/**
 * The COPY text line (with its newline) of a row given as urlencoded values in column order;
 * null is SQL NULL. The values must be {@link lineSafe}.
 */
export function encodedCopyLine(encoded: readonly (string | null)[]): string {
  let raw = '';
  for (let i = 0; i < encoded.length; i++) {
    const value = encoded[i] ?? null;
    if (i > 0) raw += '\t';
    // Raw, so the escaping of encoded backslashes leaves it alone (values hold none raw).
    raw += value === null ? '\\N' : value;
  }
  return rawCopyLine(raw);
}

/**
 * The COPY text line (with its newline) of a row's urlencoded values already joined by tabs
 * with `\N` for NULL ({@link lineSafe} values, so neither can be part of a value).
 */
export function rawCopyLine(raw: string): string {
  const line = asciiLine(raw) ?? decodeLine(raw);
  return line ?? slowLine(raw.split('\t').map((value) => (value === '\\N' ? null : value)));
}

/** A hex digit's value, or -1. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 32;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

// COPY's escapes of the bytes it must not see raw.
const copyEscapes: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r', 92: '\\\\' };

/**
 * One pass over the line when every escape is a byte below 0x80 (most rows): no UTF-8 to
 * assemble, so no decodeURIComponent and no regular expression. Null when the line has an
 * escape it does not take (non-ASCII, a NUL, a stray `%`): the general path decides.
 */
function asciiLine(raw: string): string | null {
  let out = '';
  let from = 0;
  const length = raw.length;
  for (let i = 0; i < length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 43) {
      out += `${raw.slice(from, i)} `;
      from = i + 1;
    } else if (code === 37) {
      const high = i + 2 < length ? hexDigit(raw.charCodeAt(i + 1)) : -1;
      const low = high < 0 ? -1 : hexDigit(raw.charCodeAt(i + 2));
      if (low < 0 || high >= 8) return null;
      const byte = (high << 4) | low;
      if (byte === 0) return null;
      out += raw.slice(from, i) + (copyEscapes[byte] ?? String.fromCharCode(byte));
      from = i + 3;
      i += 2;
    }
  }
  return `${out}${raw.slice(from)}\n`;
}

function decodeLine(raw: string): string | null {
  const plain = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!plain.includes('%')) return `${plain}\n`;
  // A NUL cannot be in PostgreSQL text: the value-by-value path names the problem.
  if (plain.includes('%00')) return null;
  try {
    return `${decodeURIComponent(plain.replace(encodedSpecial, escapeEncoded))}\n`;
  } catch {
    return null;
  }
}

/** Value by value: the lenient decoding of stray `%` and of bytes that are not UTF-8. */
function slowLine(encoded: readonly (string | null)[]): string {
  let line = '';
  for (let i = 0; i < encoded.length; i++) {
    const value = encoded[i] ?? null;
    if (i > 0) line += '\t';
    line += copyField(value === null ? null : decodeComponent(value));
  }
  return `${line}\n`;
}
