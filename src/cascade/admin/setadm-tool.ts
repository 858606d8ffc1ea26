/**
 * setadm as a cascade tool description: upstream's cascade admin (§2.5), its INI section
 * `[cascade_admin]` (also `[cascade_admin3]`, `[setadm]` or the job name) with `node_db`, the
 * admin commands, and the plain cascaded worker.
 */
import type { CascadeTool } from '../tool.js';
import { type AdminFlags, adminCommands, adminOptions, workerHelp } from './commands.js';
import { type AdminSettings, loadAdminSettings, sampleIni, setadmShape } from './settings.js';

export const setadmTool: CascadeTool<AdminSettings, AdminFlags> = {
  name: 'setadm',
  description:
    'Cascade admin: create and inspect cascade nodes, pause, move and drop them, run the worker.',
  sections: setadmShape.sections,
  dbKey: setadmShape.dbKey,
  commands: adminCommands,
  options: adminOptions,
  sampleIni,
  workerHelp,
  helpFooter: [
    'INI: section [cascade_admin] (or the job name), keys node_db, queue_name, ... (see --ini).',
    'Help for one command: %TOOL% --help COMMAND. Manual: docs/cascade.md.',
  ],
  loadSettings: (file, cli, overrides) => loadAdminSettings(file, cli, overrides, setadmShape),
};
