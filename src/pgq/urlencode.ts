/**
 * The urlencoded `key=value&key2` form of PgQ: logutriga's rows, Londiste's table and node
 * attributes. A key without `=` stands for NULL.
 */

/** Key → text value, in the order of the text; a key without `=` is NULL. */
export type UrlencodedFields = Map<string, string | null>;

/**
 * upstream's db_urldecode: `a=1&b=&c` → {a: '1', b: '', c: NULL}, `+` is a space, `%xx` a byte
 * of UTF-8. Lenient like Python's unquote_plus: a `%` not followed by two hex digits stays.
 */
export function urldecode(text: string): UrlencodedFields {
  const out: UrlencodedFields = new Map();
  if (text === '') return out;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) out.set(decodeComponent(part), null);
    else out.set(decodeComponent(part.slice(0, eq)), decodeComponent(part.slice(eq + 1)));
  }
  return out;
}

/** One urlencoded key or value as text (`+` a space, `%xx` UTF-8 bytes). */
export function decodeComponent(text: string): string {
  const plain = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!plain.includes('%')) return plain;
  try {
    return decodeURIComponent(plain);
  } catch {
    return decodeLenient(plain);
  }
}

// The slow path for text decodeURIComponent refuses: a stray `%`, or bytes that are not UTF-8.
function decodeLenient(plain: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < plain.length; i++) {
    const hex = plain.slice(i + 1, i + 3);
    if (plain[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(plain[i] as string, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// Python's quote_plus, which upstream's db_urlencode uses: these characters stay as they are.
const unreserved = /^[A-Za-z0-9_.-]*$/;

/** One key or value urlencoded as upstream: space as `+`, all but `A-Za-z0-9_.-` as lower-case `%xx` of UTF-8. */
export function encodeComponent(text: string): string {
  if (unreserved.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && unreserved.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** upstream's db_urlencode: `key=value` pairs joined by `&`, a NULL value as the bare key. */
export function urlencode(fields: Iterable<readonly [string, string | null]>): string {
  const parts: string[] = [];
  for (const [key, value] of fields) {
    parts.push(
      value === null ? encodeComponent(key) : `${encodeComponent(key)}=${encodeComponent(value)}`,
    );
  }
  return parts.join('&');
}
