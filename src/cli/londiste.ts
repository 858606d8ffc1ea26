/** `skytools londiste` and the bin `londiste`: the cascade tool runner with Londiste's description. */
import { londisteTool } from '../londiste/tool.js';
import { runCascadeTool } from './cascade-tool.js';

/** Run with `args` (without node and script); resolves with the exit code. */
export function runLondiste(args: string[], name = 'londiste'): Promise<number> {
  return runCascadeTool(londisteTool, args, name);
}
