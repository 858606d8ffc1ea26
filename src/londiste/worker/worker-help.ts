/**
 * The help and switches of `londiste CONFIG worker`, apart from the worker itself: the
 * command line shows them without loading the worker's modules.
 */
import type { ToolOption } from '../../cascade/tool.js';

export const workerHelp = `worker: replay the tables of this node (spec: docs/londiste.md).
  Applies the events of the tables that are ok here, each by its handler, in one transaction
  per batch with the node's position; starts a copy process (%TOOL% CONFIG copy TABLE -d) for
  each table that needs its data, up to parallel_copies at once, and hands the table over
  from the copy to the worker when the copy has caught up. With a pidfile it keeps one copy
  process loaded and waiting while no copy runs, so the next one starts at once
  (copy_prestart = 0 turns that off; copy_mode = worker runs copies in this process).
  EXECUTE scripts and sequence values come through the queue. On the root it publishes the
  sequences' values.
  -d runs it in the background (needs pidfile); -s stops it after the batch in hand.`;

/** Switches of the worker and its copy processes. */
export const workerOptions: ToolOption[] = [
  {
    flags: '--copy-rate <rows>',
    description: 'worker, copy: copy at most this many rows per second (ours)',
  },
];
