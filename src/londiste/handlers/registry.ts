/**
 * Handlers by name, and the `handler=name(k=v&...)` table attribute as upstream stores it
 * (inside the urlencoded `table_attrs`). Built-in handlers are registered here; user handlers
 * come from the modules of `handler_modules` ({@link loadHandlerModules}).
 */

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SkytoolsError } from '../../errors.js';
import type { HandlerFactory, HandlerTable, TableHandler } from '../handler.js';
import { applyfnHandler } from './applyfn.js';
import { bulkHandler } from './bulk.js';
import { dispatchHandlers } from './dispatch/handler.js';
import { londisteHandler } from './londiste.js';
import { obfuscateHandler } from './obfuscate/handler.js';
import { qsplitterHandler } from './qsplitter.js';
import { qtableHandler } from './qtable.js';
import { partHandler, shardHandler } from './shard.js';
import type { HandlerSpec } from './spec.js';
import { fakeLocalHandler, vtableHandler } from './vtable.js';

export {
  formatHandlerValue,
  formatTableAttrs,
  type HandlerSpec,
  handlerSpecFromOptions,
  parseHandlerSpec,
  parseHandlerValue,
} from './spec.js';

const builtIn: HandlerFactory[] = [
  londisteHandler,
  vtableHandler,
  fakeLocalHandler,
  qtableHandler,
  qsplitterHandler,
  applyfnHandler,
  bulkHandler,
  shardHandler,
  partHandler,
  ...dispatchHandlers,
  obfuscateHandler,
];
const registry = new Map<string, HandlerFactory>(builtIn.map((f) => [f.name, f]));

/** The handler factory of that name; an unknown name is refused. */
export function findHandler(name: string): HandlerFactory {
  const factory = registry.get(name);
  if (factory === undefined) {
    throw new SkytoolsError('UNKNOWN_HANDLER', `Unknown handler: ${name}`, {
      handler: name,
      known: [...registry.keys()],
    });
  }
  return factory;
}

/** Every registered handler, by name. */
export function listHandlers(): HandlerFactory[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Arguments not in the factory's list, refused with upstream's text. */
export function checkHandlerArgs(
  factory: HandlerFactory,
  args: Readonly<Record<string, string>>,
): void {
  const known = new Set(factory.args.map((arg) => arg.name));
  const unknown = Object.keys(args).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new SkytoolsError(
      'BAD_HANDLER_ARG',
      `Invalid handler argument: [${unknown.map((name) => `'${name}'`).join(', ')}]`,
      { handler: factory.name, arguments: unknown, known: [...known] },
    );
  }
}

/** The table's handler instance, its arguments checked. */
export function createTableHandler(
  spec: HandlerSpec,
  table: Omit<HandlerTable, 'args'>,
): TableHandler {
  const factory = findHandler(spec.name);
  checkHandlerArgs(factory, spec.args);
  return factory.create({ ...table, args: { ...spec.args } });
}

/** Add a handler; a name already taken by another factory is refused. */
export function registerHandler(factory: HandlerFactory): void {
  const existing = registry.get(factory.name);
  if (existing !== undefined && existing !== factory) {
    throw new SkytoolsError('BAD_HANDLER', `Handler already registered: ${factory.name}`, {
      handler: factory.name,
    });
  }
  registry.set(factory.name, factory);
}

function isHandlerFactory(value: unknown): value is HandlerFactory {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<HandlerFactory>;
  return (
    typeof candidate.name === 'string' &&
    candidate.name !== '' &&
    typeof candidate.create === 'function' &&
    typeof candidate.description === 'string' &&
    Array.isArray(candidate.args)
  );
}

/** Upstream's Python modules of handlers (`londiste.handlers.bulk`, ...). */
const upstreamModule = /^londiste\.handlers(\.\w+)?$/;

/**
 * Import the modules of `handler_modules` (file paths, relative to `baseDir`, or package
 * names) and register every HandlerFactory they export (named exports, the default export,
 * or arrays of factories); upstream's own Python modules (`londiste.handlers.*`) are skipped,
 * so an upstream INI works as it is. Returns the names registered.
 */
export async function loadHandlerModules(
  modules: readonly string[],
  baseDir: string = process.cwd(),
): Promise<string[]> {
  const names: string[] = [];
  for (const spec of modules) {
    // An upstream INI lists its Python modules; those handlers are built in here.
    if (upstreamModule.test(spec)) continue;
    const target =
      spec.startsWith('.') || path.isAbsolute(spec)
        ? pathToFileURL(path.resolve(baseDir, spec)).href
        : spec;
    let loaded: Record<string, unknown>;
    try {
      loaded = (await import(target)) as Record<string, unknown>;
    } catch (error) {
      throw new SkytoolsError(
        'BAD_HANDLER_MODULE',
        `handler module ${spec} could not be loaded: ${(error as Error).message}`,
        { module: spec },
        { cause: error },
      );
    }
    const factories = Object.values(loaded)
      .flatMap((value) => (Array.isArray(value) ? value : [value]))
      .filter(isHandlerFactory);
    if (factories.length === 0) {
      throw new SkytoolsError(
        'BAD_HANDLER_MODULE',
        `handler module ${spec} exports no handler (objects with name, description, args, create)`,
        { module: spec },
      );
    }
    for (const factory of new Set(factories)) {
      registerHandler(factory);
      names.push(factory.name);
    }
  }
  return names;
}
