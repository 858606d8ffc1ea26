/**
 * `londiste.table_info.table_attrs`: urlencoded as upstream's skytools writes it (letters,
 * digits and `_.-` kept, space as `+`, every other UTF-8 byte as lower-case `%xx`, a key
 * without a value as the bare key), so a table added by either tool compares equal, and the
 * handler attribute `name(k=v&...)` with its arguments encoded the same way inside.
 */

export type Attrs = Map<string, string | null>;

function encodeComponent(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.-]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function decodeComponent(text: string): string {
  const bytes: number[] = [];
  const plain = text.replace(/\+/g, ' ');
  for (let i = 0; i < plain.length; i++) {
    const hex = plain.slice(i + 1, i + 3);
    if (plain[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(plain[i] as string, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

export function encodeAttrs(attrs: Attrs): string {
  return [...attrs]
    .map(([k, v]) =>
      v === null ? encodeComponent(k) : `${encodeComponent(k)}=${encodeComponent(v)}`,
    )
    .join('&');
}

export function decodeAttrs(text: string | null): Attrs {
  const attrs: Attrs = new Map();
  for (const part of (text ?? '').split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) attrs.set(decodeComponent(part), null);
    else attrs.set(decodeComponent(part.slice(0, eq)), decodeComponent(part.slice(eq + 1)));
  }
  return attrs;
}

/** `name` alone, or `name(k=v&...)`: the value of the `handler` attribute. */
export function handlerAttr(name: string, args: Readonly<Record<string, string>>): string {
  const entries = Object.entries(args);
  if (entries.length === 0) return name;
  return `${name}(${encodeAttrs(new Map(entries))})`;
}

/** The attributes as Python prints a dict (`tables` shows them so): `{'k': 'v'}`, or ''. */
export function attrsRepr(text: string | null): string {
  const attrs = decodeAttrs(text);
  if (attrs.size === 0) return '';
  const quote = (s: string | null) =>
    s === null ? 'None' : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `{${[...attrs].map(([k, v]) => `${quote(k)}: ${quote(v)}`).join(', ')}}`;
}
