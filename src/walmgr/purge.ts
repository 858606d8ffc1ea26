/**
 * `xpurgewals`: delete archived WAL that no kept backup needs, i.e. files of the oldest
 * backup's timeline that come before its first WAL file (upstream: same timeline only, so
 * files of other timelines and `.history` files stay).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { listSets } from './backup-sets.js';
import { fsyncDir } from './durable.js';
import type { WalmgrLog } from './log.js';
import type { WalmgrSettings } from './settings.js';
import {
  backupHistoryPattern,
  partialPattern,
  segmentOf,
  segmentPattern,
  timelineOf,
} from './wal-names.js';

/** Deletes and returns the names deleted (or that would be, with `notReally`). */
export function purgeWals(settings: WalmgrSettings, log: WalmgrLog, notReally = false): string[] {
  const dir = settings.completedWals;
  const sets = listSets(settings.fullBackup);
  const oldest = sets[sets.length - 1];
  if (oldest === undefined || !existsSync(dir)) return [];
  const first = oldest.manifest.startWal;
  const timeline = timelineOf(first);
  const purged: string[] = [];
  for (const file of readdirSync(dir)) {
    const name = file.replace(/\.(gz|sha256)$/, '');
    const walLike =
      segmentPattern.test(name) || partialPattern.test(name) || backupHistoryPattern.test(name);
    if (!walLike || timelineOf(name) !== timeline || segmentOf(name) >= first) continue;
    if (!notReally) rmSync(path.join(dir, file), { force: true });
    if (!file.endsWith('.sha256')) purged.push(name);
  }
  if (purged.length > 0 && !notReally) fsyncDir(dir);
  log.debug(
    `${notReally ? 'would purge' : 'purged'} ${purged.length} WAL files before ${first} from ${dir}`,
  );
  return purged;
}
