/**
 * Londiste's own commands, one file each; the status helper's commands (status*, wait*,
 * compare*) join the list with one line.
 */
import type { ToolCommand } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';
import { addSeqCommand } from './add-seq.js';
import { addTableCommand } from './add-table.js';
import { changeHandlerCommand } from './change-handler.js';
import { compareCommands, compareOptions } from './compare-commands.js';
import { executeCommand } from './execute.js';
import { type LondisteFlags, londisteOptions as ownOptions } from './flags.js';
import { missingCommand } from './missing.js';
import { removeSeqCommand } from './remove-seq.js';
import { removeTableCommand } from './remove-table.js';
import { resyncCommand } from './resync.js';
import { seqsCommand } from './seqs.js';
import { showHandlersCommand } from './show-handlers.js';
import { statusCommands, statusOptions } from './status-commands.js';
import { tablesCommand } from './tables.js';

export type { LondisteFlags } from './flags.js';
export const londisteOptions = [...ownOptions, ...statusOptions, ...compareOptions];

export const londisteCommands: ToolCommand<LondisteSettings, LondisteFlags>[] = [
  addTableCommand,
  removeTableCommand,
  changeHandlerCommand,
  addSeqCommand,
  removeSeqCommand,
  tablesCommand,
  seqsCommand,
  missingCommand,
  resyncCommand,
  executeCommand,
  showHandlersCommand,
  ...statusCommands,
  ...compareCommands,
];
