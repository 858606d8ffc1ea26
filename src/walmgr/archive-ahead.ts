/**
 * `archive-ahead` (ours): a daemon beside the server that archives each segment as soon as the
 * server marks it `.ready`, so that archive_command only confirms. Node's start-up is most of
 * what one `xarchive` costs; with `archive_ahead = yes`, `setup` writes an archive_command that
 * is a few shell built-ins when the daemon got there first: the segment was archived durably
 * (same code as xarchive: checksum, fsyncs) and a marker `completed_wals/.ahead/NAME` written
 * after that, not older than the segment file. Without a marker (the daemon is not running, is
 * behind, or refused the segment) the command runs `xarchive` as usual, so the daemon never
 * decides alone whether a segment is archived. While the daemon runs (`.ahead/.alive`, removed
 * when it stops) the command waits up to 2 s for the marker before it starts Node itself.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { archiveWal } from './archive.js';
import { checksumFileOf } from './archive-files.js';
import { shellWord, walmgrCommand } from './commands-path.js';
import { WalmgrError } from './errors.js';
import type { WalmgrLog } from './log.js';
import { chownFile, makeDirs, type Owner, ownerFrom } from './ownership.js';
import type { WalmgrSettings } from './settings.js';
import { isWalFileName } from './wal-names.js';

export function markerDir(completedWals: string): string {
  return path.join(completedWals, '.ahead');
}

/**
 * The archive_command for `archive_ahead = yes`. No `%` but `%p`/`%f` (PostgreSQL 16 refuses
 * other placeholders), so the marker is compared by age (`-nt`), not by a stat format.
 */
export function aheadArchiveCommand(settings: WalmgrSettings, nodeBin?: string): string {
  const dir = shellWord(markerDir(settings.completedWals));
  const script = [
    `m=${dir}/$2`,
    `a=${dir}/.alive`,
    // The server hands the segment over as the daemon sees it: wait for the daemon a moment.
    'i=0; while [ $i -lt 100 ] && [ -f "$a" ] && ! [ -f "$m" ]; do sleep 0.02; i=$((i+1)); done',
    'if [ -f "$m" ] && ! [ "$1" -nt "$m" ]; then exec rm -f "$m"; fi',
    `exec ${walmgrCommand(settings.file, nodeBin)} xarchive "$1" "$2"`,
  ].join('; ');
  return `/bin/sh -c ${shellWord(script)} walmgr-ahead %p %f`;
}

function needMasterData(settings: WalmgrSettings): string {
  if (settings.masterData === undefined) {
    throw new WalmgrError(
      'WRONG_ROLE',
      `archive-ahead needs a master config (with master_data); ${settings.file} has none`,
      { file: settings.file },
    );
  }
  return settings.masterData;
}

/** One pass: archive every `.ready` segment without a marker; drop markers no longer needed. */
export function archiveReady(
  settings: WalmgrSettings,
  log: WalmgrLog,
  owner: Owner | null = ownerFrom(settings.masterData),
): string[] {
  const walDir = path.join(needMasterData(settings), 'pg_wal');
  const status = path.join(walDir, 'archive_status');
  const markers = markerDir(settings.completedWals);
  makeDirs(markers, owner);
  const ready = dropStaleMarkers(status, markers);
  const archived: string[] = [];
  for (const name of [...ready].sort()) {
    const marker = path.join(markers, name);
    if (existsSync(marker)) continue;
    const source = path.join(walDir, name);
    try {
      archiveWal(
        { completedWals: settings.completedWals, compression: settings.compression },
        source,
        name,
      );
      for (const file of [
        checksumFileOf(settings.completedWals, name),
        ...archivedFiles(settings, name),
      ]) {
        chownFile(file, owner);
      }
    } catch (error) {
      // The server's own xarchive meets the same problem and reports it; nothing to confirm.
      if (existsSync(source)) log.warning(`archive-ahead: ${(error as Error).message}`);
      continue;
    }
    // Owned by the server's user before it appears: the archive_command removes it at once.
    const temporary = path.join(markers, `.${name}.tmp`);
    writeFileSync(temporary, '');
    chownFile(temporary, owner);
    renameSync(temporary, marker);
    archived.push(name);
  }
  return archived;
}

/** Markers of segments the server no longer offers (it archived them itself) go; returns the `.ready` names. */
function dropStaleMarkers(status: string, markers: string): Set<string> {
  const ready = new Set(
    readdirSync(status)
      .filter((file) => file.endsWith('.ready'))
      .map((file) => file.slice(0, -'.ready'.length))
      .filter(isWalFileName),
  );
  for (const name of readdirSync(markers)) {
    if (!name.startsWith('.') && !ready.has(name))
      rmSync(path.join(markers, name), { force: true });
  }
  return ready;
}

function archivedFiles(settings: WalmgrSettings, name: string): string[] {
  return [name, `${name}.gz`]
    .map((file) => path.join(settings.completedWals, file))
    .filter((file) => existsSync(file));
}

/** Run passes until SIGTERM/SIGINT: at once when archive_status changes, else every second. */
export async function archiveAheadDaemon(settings: WalmgrSettings, log: WalmgrLog): Promise<void> {
  const status = path.join(needMasterData(settings), 'pg_wal', 'archive_status');
  statSync(status);
  mkdirSync(settings.completedWals, { recursive: true });
  const owner = ownerFrom(settings.masterData);
  let running = true;
  let wake: () => void = () => {};
  let dirty = true;
  const stop = () => {
    running = false;
    wake();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const alive = path.join(markerDir(settings.completedWals), '.alive');
  makeDirs(markerDir(settings.completedWals), owner);
  writeFileSync(alive, `${process.pid}\n`);
  const watcher = watch(status, () => {
    dirty = true;
    wake();
  });
  log.info(`archive-ahead: archiving .ready segments of ${status} into ${settings.completedWals}`);
  try {
    while (running) {
      if (dirty) {
        dirty = false;
        try {
          const done = archiveReady(settings, log, owner);
          if (done.length > 0) log.debug(`archive-ahead: archived ${done.join(', ')}`);
        } catch (error) {
          log.warning(`archive-ahead: ${(error as Error).message}`);
        }
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(() => {
          dirty = true;
          resolve();
        }, 1000).unref();
      });
    }
  } finally {
    watcher.close();
    rmSync(alive, { force: true });
    dropStaleMarkers(status, markerDir(settings.completedWals));
    log.info('archive-ahead stopped');
  }
}
