/**
 * `skytools set` and its alias bin `setadm`: upstream's cascade admin (§2.5), the generic
 * cascade tool runner with setadm's description.
 */
import { setadmTool } from '../cascade/admin/setadm-tool.js';
import { runCascadeTool } from './cascade-tool.js';

/** Run with `args` (without node and script); resolves with the exit code. */
export function runSet(args: string[], name = 'setadm'): Promise<number> {
  return runCascadeTool(setadmTool, args, name);
}
