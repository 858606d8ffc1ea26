/**
 * The `handler=name(k=v&...)` table attribute as upstream stores it (inside the urlencoded
 * `table_attrs`), apart from the registry: reading and writing it needs no handler's code.
 */
import { SkytoolsError } from '../../errors.js';
import { urldecode, urlencode } from '../../pgq/urlencode.js';

const defaultHandler = 'londiste';

export interface HandlerSpec {
  name: string;
  args: Record<string, string>;
}

/** `name(k=v&k2=v2)` or `name`: the value of the `handler` attribute. */
export function parseHandlerValue(value: string): HandlerSpec {
  const text = value.trim();
  const open = text.indexOf('(');
  if (open < 0) return { name: text, args: {} };
  if (!text.endsWith(')')) {
    throw new SkytoolsError('BAD_HANDLER', `Invalid handler spec: ${value}`, { handler: value });
  }
  const args: Record<string, string> = {};
  for (const [key, arg] of urldecode(text.slice(open + 1, -1))) args[key] = arg ?? '';
  return { name: text.slice(0, open).trim(), args };
}

/** The handler spec of a table's attributes; `londiste` without arguments when none. */
export function parseHandlerSpec(tableAttrs: string | null): HandlerSpec {
  const value = urldecode(tableAttrs ?? '').get('handler');
  if (value === undefined || value === null || value.trim() === '') {
    return { name: defaultHandler, args: {} };
  }
  return parseHandlerValue(value);
}

/** `name(k=v&k2=v2)`, or the bare name without arguments. */
export function formatHandlerValue(spec: HandlerSpec): string {
  const args = Object.entries(spec.args);
  return args.length === 0 ? spec.name : `${spec.name}(${urlencode(args)})`;
}

/**
 * `table_attrs` with the handler set to `spec` (other attributes kept); the default handler
 * without arguments leaves no `handler` attribute, as upstream.
 */
export function formatTableAttrs(spec: HandlerSpec, tableAttrs: string | null = null): string {
  const attrs = urldecode(tableAttrs ?? '');
  attrs.delete('handler');
  const fields: [string, string | null][] = [];
  if (spec.name !== defaultHandler || Object.keys(spec.args).length > 0) {
    fields.push(['handler', formatHandlerValue(spec)]);
  }
  fields.push(...attrs);
  return urlencode(fields);
}

/**
 * A `--handler` word with its `--handler-arg=k=v` words as a spec; the `--handler` word may
 * carry arguments itself (`name(k=v)`), the later words win.
 */
export function handlerSpecFromOptions(
  handler: string | undefined,
  handlerArgs: string[] = [],
): HandlerSpec {
  const spec = parseHandlerValue(handler ?? defaultHandler);
  for (const word of handlerArgs) {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      throw new SkytoolsError('BAD_HANDLER_ARG', `Invalid handler argument: ['${word}']`, {
        handler: spec.name,
        argument: word,
      });
    }
    spec.args[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return spec;
}
