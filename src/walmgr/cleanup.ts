/**
 * `cleanup` (upstream): remove walmgr's data (`walmgr_data`: archive and backups), the old data
 * directories `restore` kept (`<slave_data>.N`), and the config file itself. Everything it
 * deletes is logged first; `-n` only logs.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { WalmgrLog } from './log.js';
import type { WalmgrSettings } from './settings.js';

export function cleanup(settings: WalmgrSettings, log: WalmgrLog, notReally = false): string[] {
  const doomed: string[] = [];
  if (existsSync(settings.walmgrData)) doomed.push(settings.walmgrData);
  for (const dir of [settings.completedWals, settings.partialWals, settings.fullBackup]) {
    if (existsSync(dir) && !dir.startsWith(`${settings.walmgrData}/`)) doomed.push(dir);
  }
  if (settings.slaveData !== undefined) {
    const parent = path.dirname(settings.slaveData);
    const base = path.basename(settings.slaveData);
    if (existsSync(parent)) {
      for (const name of readdirSync(parent)) {
        if (name.startsWith(`${base}.`) && /^\d+$/.test(name.slice(base.length + 1))) {
          doomed.push(path.join(parent, name));
        }
      }
    }
  }
  doomed.push(settings.file);
  for (const target of doomed) {
    log.info(`${notReally ? 'would remove' : 'removing'} ${target}`);
    if (!notReally) rmSync(target, { recursive: true, force: true });
  }
  return doomed;
}
