/** `londiste.table_info.table_attrs` as `tables` shows it: the way Python prints a dict. */
import { urldecode } from '../../pgq/urlencode.js';

/** `{'k': 'v', 'k2': None}`, or '' when there are none. */
export function attrsRepr(text: string | null): string {
  const attrs = urldecode(text ?? '');
  if (attrs.size === 0) return '';
  const quote = (s: string | null) =>
    s === null ? 'None' : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `{${[...attrs].map(([k, v]) => `${quote(k)}: ${quote(v)}`).join(', ')}}`;
}
