/**
 * Londiste as a cascade tool description: the cascade admin commands shared with setadm,
 * Londiste's own table and sequence commands, the `copy` job its worker starts, the worker
 * with its replay hooks, and the admin hooks of create-* and takeover.
 */
import { adminCommands, adminOptions } from '../cascade/admin/commands.js';
import type { CascadeTool } from '../cascade/tool.js';
import { type LondisteFlags, londisteCommands, londisteOptions } from './admin/commands.js';
import { londisteAdminHooks } from './admin/hooks.js';
import { sampleIni } from './admin/sample-ini.js';
import { copyJobCommand } from './copy/job.js';
import { type LondisteSettings, loadLondisteSettings, londisteShape } from './settings.js';
import { workerHelp, workerOptions } from './worker/worker-help.js';

export const londisteTool: CascadeTool<LondisteSettings, LondisteFlags> = {
  name: 'londiste',
  description:
    'Londiste: replicate tables through a cascaded queue; add tables, copy them while replay goes on, run the worker.',
  sections: londisteShape.sections,
  dbKey: londisteShape.dbKey,
  commands: [...londisteCommands, ...adminCommands],
  options: [...adminOptions, ...londisteOptions, ...workerOptions],
  jobCommands: [copyJobCommand],
  sampleIni,
  workerHelp,
  helpFooter: [
    'INI: section [londiste] (or [londiste3], or the job name), keys db, queue_name, ... (see --ini).',
    'Help for one command: %TOOL% --help COMMAND. Manual: docs/londiste.md.',
  ],
  loadSettings: loadLondisteSettings,
  // Loaded by `worker` only: the other commands start without the replay's modules.
  loadWorker: async () => (await import('./worker/factory.js')).createLondisteWorker,
  adminHooks: londisteAdminHooks,
};
