/**
 * What add-table and change-handler hand to `londiste.local_add_table` /
 * `local_change_handler`: the trigger argument words and the table attributes, from the
 * switches. The handler is checked through the registry (unknown names, `Invalid handler
 * argument`) and may add trigger arguments of its own.
 */
import { SkytoolsError } from '../../errors.js';
import { urldecode, urlencode } from '../../pgq/urlencode.js';
import { formatHandlerValue, handlerSpecFromOptions } from '../handlers/spec.js';
import type { LondisteFlags } from './flags.js';
import { maxParallelCopy, noMerge } from './flags.js';

type Attrs = Map<string, string | null>;

export interface HandlerChoice {
  /** The `handler` attribute; undefined = the default handler, stored as no attribute. */
  attr: string | undefined;
  needsTable: boolean;
  addTriggerArgs(args: string[]): string[];
}

/** `--handler` and `--handler-arg`, checked by the handler's factory. */
export async function handlerChoice(
  flags: LondisteFlags,
  table: string,
  dest: string,
  config: Readonly<Record<string, string>> = {},
): Promise<HandlerChoice> {
  if (flags.handler === undefined && flags.handlerArg.length === 0) {
    return { attr: undefined, needsTable: true, addTriggerArgs: (args) => args };
  }
  const spec = handlerSpecFromOptions(flags.handler, flags.handlerArg);
  // The handlers' code loads only for a command that names one.
  const { createTableHandler } = await import('../handlers/registry.js');
  const handler = createTableHandler(spec, { tableName: table, destTable: dest, config });
  return {
    attr: formatHandlerValue(spec),
    needsTable: handler.needsTable(),
    addTriggerArgs: (words) => handler.addTriggerArgs?.(words) ?? words,
  };
}

/** Switches that cannot go together, refused before anything is read. */
export function checkConflicts(flags: LondisteFlags): void {
  const pairs: [boolean, string][] = [
    [flags.mergeAll === true && noMerge(flags), 'Cannot use merge-all and no-merge together'],
    [
      flags.copyNode !== undefined && flags.findCopyNode === true,
      '--copy-node and --find-copy-node cannot be used together',
    ],
    [
      flags.triggers === false && (flags.triggerFlags !== undefined || flags.triggerArg.length > 0),
      '--no-triggers cannot be used with --trigger-flags or --trigger-arg',
    ],
  ];
  for (const [conflict, message] of pairs) {
    if (conflict) throw new SkytoolsError('BAD_OPTIONS', message);
  }
  if (flags.triggerFlags !== undefined && !/^[BAIUDLQJS]+$/i.test(flags.triggerFlags)) {
    throw new SkytoolsError(
      'BAD_OPTION',
      `--trigger-flags takes letters of BAIUDLQJS, not "${flags.triggerFlags}"`,
    );
  }
  maxParallelCopy(flags);
}

/** The trigger argument words of the switches (before the handler adds its own). */
export function triggerArgs(flags: LondisteFlags): string[] {
  const args: string[] = [];
  if (flags.triggerFlags !== undefined) args.push(`tgflags=${flags.triggerFlags}`);
  args.push(...flags.triggerArg);
  if (flags.expectSync) args.push('expect_sync');
  if (flags.triggers === false) args.push('no_triggers');
  if (flags.mergeAll) args.push('merge_all');
  if (noMerge(flags)) args.push('no_merge');
  return args;
}

/** add-table's attributes, in upstream's order: handler, copy_node, skip_truncate, max_parallel_copy. */
export function addTableAttrs(
  flags: LondisteFlags,
  handler: HandlerChoice,
  copyNode: string | undefined,
): string {
  const attrs: Attrs = new Map();
  if (handler.attr !== undefined) attrs.set('handler', handler.attr);
  if (copyNode !== undefined) attrs.set('copy_node', copyNode);
  if (flags.skipTruncate) attrs.set('skip_truncate', '1');
  const parallel = maxParallelCopy(flags);
  if (parallel !== undefined) attrs.set('max_parallel_copy', String(parallel));
  return urlencode(attrs);
}

/** `attrs` with the handler replaced (or removed for the default one), the rest in place. */
export function withHandler(attrsText: string | null, handler: HandlerChoice): string {
  const attrs = urldecode(attrsText ?? '');
  const rest = [...attrs].filter(([key]) => key !== 'handler');
  const out: Attrs = new Map(
    handler.attr === undefined ? rest : [['handler', handler.attr], ...rest],
  );
  return urlencode(out);
}

/** `attrs` with copy_node set (resync --copy-node). */
export function withCopyNode(attrsText: string | null, copyNode: string): string {
  const attrs = urldecode(attrsText ?? '');
  attrs.set('copy_node', copyNode);
  return urlencode(attrs);
}
