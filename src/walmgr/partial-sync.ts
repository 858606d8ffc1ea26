/**
 * `sync`, `syncdaemon` and `xpartialsync` (spec §7.1): the WAL the master has flushed but not
 * yet archived is copied into `partial_wals`, so that a standby booted after the master is lost
 * misses at most the last `loop_delay` seconds (xrestore hands a partial segment over once
 * `STOP` exists). Today's servers tell the flushed position (`pg_current_wal_flush_lsn`), so
 * each round ships only the bytes written since the last one: whole segments that wait for the
 * archiver, then the current one up to that position. Partial files are padded to the segment
 * size, as PostgreSQL wants of a restored segment; those the archive has caught up with go.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { findArchived } from './archive-files.js';
import { fsyncDir, writeDurable } from './durable.js';
import { WalmgrError } from './errors.js';
import { chownFile, makeDirs, type Owner, ownerFrom } from './ownership.js';
import { runOnSlave } from './remote.js';
import type { RemoteSlave, WalmgrSettings } from './settings.js';
import { segmentPattern } from './wal-names.js';

export const defaultSegmentBytes = 16 * 1024 * 1024;
const stateName = '.walmgr-sync';

/** Write `data` at `offset` of `partial_wals/NAME` (a new file at offset 0), padded, fsynced. */
export function writePartial(
  partialWals: string,
  name: string,
  offset: number,
  data: Buffer,
  segmentBytes = defaultSegmentBytes,
  owner: Owner | null = ownerFrom(partialWals),
): void {
  if (!segmentPattern.test(name)) {
    throw new WalmgrError('USAGE', `"${name}" is not a WAL segment name`, { name });
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + data.length > segmentBytes) {
    throw new WalmgrError(
      'USAGE',
      `offset ${offset} and ${data.length} bytes do not fit a ${segmentBytes}-byte segment`,
      { name, offset },
    );
  }
  const file = path.join(partialWals, name);
  const created = offset === 0 || !existsSync(file);
  if (offset > 0 && !existsSync(file)) {
    throw new WalmgrError(
      'WAL_NOT_FOUND',
      `${file} does not exist: a partial segment starts at offset 0`,
      { file },
    );
  }
  makeDirs(partialWals, owner);
  const fd = openSync(file, created ? 'w' : 'r+', 0o600);
  try {
    for (let done = 0; done < data.length; ) {
      done += writeSync(fd, data, done, data.length - done, offset + done);
    }
    // Zeros after the last record end replay there; the size must be the segment's.
    if (fstatSync(fd).size !== segmentBytes) ftruncateSync(fd, segmentBytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) {
    chownFile(file, owner);
    fsyncDir(partialWals);
  }
}

export interface SyncRound {
  /** Ranges shipped, `NAME from-to`. */
  shipped: { name: string; from: number; to: number }[];
  /** Partial files removed because the archive has them. */
  removed: string[];
  current: string;
}

interface SyncState {
  file: string;
  offset: number;
}

/**
 * Where a round's bytes go. Local: `partial_wals` here, the position in its state file. Remote
 * (a slave reached over ssh): each range piped into the slave's `xpartialsync`, which prunes
 * what its archive holds; the position lives in the process (a daemon's rounds), so a one-shot
 * `sync` ships every segment not yet archived from its start.
 */
export interface PartialTarget {
  /** Where the last round stopped, or null. */
  last(): SyncState | null;
  /** Whether NAME's partial file is there already (a range of no bytes need not make it). */
  has(name: string): boolean;
  ship(name: string, from: number, data: Buffer, segmentBytes: number): void;
  /** After a round: remember where it stopped, drop what the archive has; the names dropped. */
  finish(at: SyncState, archived: string): string[];
}

export function localPartials(settings: WalmgrSettings): PartialTarget {
  const partial = settings.partialWals;
  const statePath = path.join(partial, stateName);
  const owner = ownerFrom(partial, path.dirname(partial));
  return {
    last: () =>
      existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as SyncState) : null,
    has: (name) => existsSync(path.join(partial, name)),
    ship: (name, from, data, segmentBytes) =>
      writePartial(partial, name, from, data, segmentBytes, owner),
    finish: (at, archived) => {
      writeDurable(statePath, `${JSON.stringify(at)}\n`);
      chownFile(statePath, owner);
      const removed: string[] = [];
      if (existsSync(partial)) {
        for (const name of readdirSync(partial)) {
          if (segmentPattern.test(name) && name <= archived && name !== at.file) {
            rmSync(path.join(partial, name), { force: true });
            removed.push(name);
          }
        }
      }
      return removed;
    },
  };
}

export function remotePartials(remote: RemoteSlave): PartialTarget {
  let position: SyncState | null = null;
  return {
    last: () => position,
    has: (name) => position?.file === name,
    ship: (name, from, data, segmentBytes) => {
      runOnSlave(
        remote,
        ['xpartialsync', name, String(from), String(data.length), String(segmentBytes)],
        data,
      );
    },
    finish: (at) => {
      position = at;
      return [];
    },
  };
}

/** The target of `settings`: the slave over ssh when the archive is remote, else here. */
export function partialsOf(settings: WalmgrSettings): PartialTarget {
  return settings.remote !== undefined ? remotePartials(settings.remote) : localPartials(settings);
}

/**
 * The slave's side of a remote sync: partial files whose whole segment is in the archive go
 * (xrestore prefers the archived one anyway), except `keep`, the one being written.
 */
export function prunePartials(settings: WalmgrSettings, keep: string): string[] {
  const partial = settings.partialWals;
  if (!existsSync(partial)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(partial)) {
    if (!segmentPattern.test(name) || name === keep) continue;
    if (findArchived(settings.completedWals, name) === null) continue;
    rmSync(path.join(partial, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** One round of `sync` on the master, through `client` (a session on it). */
export async function syncPartial(
  settings: WalmgrSettings,
  client: pg.Client,
  notReally = false,
  target: PartialTarget = localPartials(settings),
): Promise<SyncRound> {
  const masterData = settings.masterData;
  if (masterData === undefined) {
    throw new WalmgrError(
      'WRONG_ROLE',
      `sync needs a master config (with master_data); ${settings.file} has none`,
      { file: settings.file },
    );
  }
  const { rows } = await client.query<{
    file: string;
    offset: number;
    archived: string | null;
    seg: string;
    recovery: boolean;
  }>(
    `select w.file_name as file, w.file_offset as offset,
            (select last_archived_wal from pg_stat_archiver) as archived,
            (select setting::bigint * case unit when 'B' then 1 when 'MB' then 1048576 else 8192 end
               from pg_settings where name = 'wal_segment_size') as seg,
            pg_is_in_recovery() as recovery
       from pg_walfile_name_offset(pg_current_wal_flush_lsn()) as w`,
  );
  const row = rows[0] as {
    file: string;
    offset: number;
    archived: string | null;
    seg: string;
    recovery: boolean;
  };
  const segmentBytes = Number(row.seg);
  const state = target.last();
  const archived = row.archived ?? '';
  const walDir = path.join(masterData, 'pg_wal');
  const waiting = readdirSync(walDir)
    .filter((name) => segmentPattern.test(name) && name > archived && name <= row.file)
    .sort();
  const round: SyncRound = { shipped: [], removed: [], current: row.file };
  for (const name of waiting) {
    if (state !== null && name < state.file) continue;
    const from = state !== null && name === state.file ? state.offset : 0;
    const to = name === row.file ? row.offset : segmentBytes;
    if (to <= from && target.has(name)) continue;
    round.shipped.push({ name, from, to });
    if (notReally) continue;
    target.ship(name, from, readRange(path.join(walDir, name), from, to), segmentBytes);
  }
  if (!notReally) round.removed = target.finish({ file: row.file, offset: row.offset }, archived);
  return round;
}

function readRange(file: string, from: number, to: number): Buffer {
  const buffer = Buffer.alloc(Math.max(0, to - from));
  const fd = openSync(file, 'r');
  try {
    for (let done = 0; done < buffer.length; ) {
      const read = readSync(fd, buffer, done, buffer.length - done, from + done);
      if (read === 0) break;
      done += read;
    }
  } finally {
    closeSync(fd);
  }
  return buffer;
}
