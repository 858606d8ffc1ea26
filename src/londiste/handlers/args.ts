/**
 * Reading a handler's arguments (`handler=name(k=v&...)`): flags and required values, each
 * refused with upstream's `Invalid handler argument: [...]` text and the handler, table and
 * value in the context, so add-table stops before anything changes.
 */
import { SkytoolsError } from '../../errors.js';
import type { HandlerTable } from '../handler.js';

export function badArgument(
  handler: string,
  table: HandlerTable,
  name: string,
  value: string | undefined,
  why: string,
): SkytoolsError {
  const shown = value === undefined ? name : `${name}=${value}`;
  return new SkytoolsError('BAD_HANDLER_ARG', `Invalid handler argument: ['${shown}']`, {
    handler,
    table: table.tableName,
    argument: name,
    ...(value === undefined ? {} : { value }),
    reason: why,
  });
}

/** A 0/1 switch (upstream also writes true/false); absent or empty = `fallback`. */
export function flagArg(handler: string, table: HandlerTable, name: string, fallback = false) {
  const value = table.args[name];
  if (value === undefined || value === '') return fallback;
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw badArgument(handler, table, name, value, 'takes 0 or 1');
}

/** An argument that must be given and not empty. */
export function requiredArg(handler: string, table: HandlerTable, name: string): string {
  const value = table.args[name];
  if (value === undefined || value.trim() === '') {
    throw badArgument(handler, table, name, value, `${handler} needs ${name}=...`);
  }
  return value;
}

/** One of a fixed set of values; absent = `fallback`. */
export function choiceArg<T extends string>(
  handler: string,
  table: HandlerTable,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = table.args[name];
  if (value === undefined || value === '') return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw badArgument(handler, table, name, value, `takes one of ${choices.join(', ')}`);
}
