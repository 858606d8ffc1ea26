/** `londiste CONFIG copy TABLE`: filled in by the worker work. */
import type { JobCommand } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';

export const copyJobCommand: JobCommand<LondisteSettings> = {
  name: 'copy',
  args: ['table'],
  summary: 'copy one table (started by the worker)',
  help: 'copy TABLE: started by the worker.',
  run: async () => 1,
};
