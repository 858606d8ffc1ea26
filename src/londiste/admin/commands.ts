/** Londiste's own commands (add-table, tables, status, ...): filled in by the admin work. */
import type { AdminFlags } from '../../cascade/admin/commands.js';
import type { ToolCommand, ToolOption } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';

export interface LondisteFlags extends AdminFlags {}

export const londisteCommands: ToolCommand<LondisteSettings, LondisteFlags>[] = [];
export const londisteOptions: ToolOption[] = [];
