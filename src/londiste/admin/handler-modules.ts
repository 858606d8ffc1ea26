/** The handlers of `handler_modules`, registered before a command looks a handler up. */
import path from 'node:path';
import type { LondisteSettings } from '../settings.js';

/** Module paths are relative to the INI file's folder (the working folder without one). */
export async function loadConfiguredHandlers(settings: LondisteSettings): Promise<void> {
  if (settings.handlerModules.length === 0) return;
  const base = settings.file === undefined ? process.cwd() : path.dirname(settings.file);
  const { loadHandlerModules } = await import('../handlers/registry.js');
  await loadHandlerModules(settings.handlerModules, base);
}
