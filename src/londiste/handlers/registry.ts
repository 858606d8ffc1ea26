/**
 * Handlers by name, and the `handler=name(k=v&...)` table attribute: filled in by the
 * handler work (placeholder signatures the worker and admin build on).
 */
import type { HandlerFactory, HandlerTable, TableHandler } from '../handler.js';

export interface HandlerSpec {
  name: string;
  args: Record<string, string>;
}

/** The handler spec of a table's attributes; `londiste` without arguments when none. */
export function parseHandlerSpec(_tableAttrs: string | null): HandlerSpec {
  throw new Error('not built yet');
}

/** The handler factory of that name; an unknown name or argument is refused. */
export function findHandler(_name: string): HandlerFactory {
  throw new Error('not built yet');
}

/** The table's handler instance, its arguments checked. */
export function createTableHandler(
  _spec: HandlerSpec,
  _table: Omit<HandlerTable, 'args'>,
): TableHandler {
  throw new Error('not built yet');
}
