/**
 * The drill's first half: every archived file a backup needs (its timeline's segments from
 * the backup's first WAL on, `.history` and `.backup` files) is there and has the bytes its
 * recorded checksum says. A gap between the first and the stop WAL is a failure too.
 */
import { existsSync, readdirSync } from 'node:fs';
import { contentChecksum, findArchived, recordedChecksum } from './archive-files.js';
import type { BackupSet } from './backup-sets.js';
import {
  backupHistoryPattern,
  historyPattern,
  segmentOf,
  segmentPattern,
  timelineOf,
} from './wal-names.js';

export interface ArchiveCheck {
  checked: number;
  /** One line per problem, naming the file. */
  problems: string[];
  /** The newest segment of the backup's timeline in the archive. */
  newest: string | null;
}

export function checkArchive(completedWals: string, set: BackupSet): ArchiveCheck {
  const first = set.manifest.startWal;
  const problems: string[] = [];
  if (!existsSync(completedWals)) {
    return { checked: 0, problems: [`the archive ${completedWals} does not exist`], newest: null };
  }
  const names = new Set(readdirSync(completedWals).map((file) => file.replace(/\.gz$/, '')));
  const needed = [...names]
    .filter(
      (name) =>
        historyPattern.test(name) ||
        ((segmentPattern.test(name) || backupHistoryPattern.test(name)) &&
          timelineOf(name) >= timelineOf(first) &&
          segmentOf(name) >= first),
    )
    .sort();
  for (const name of needed) {
    const archived = findArchived(completedWals, name);
    if (archived === null) continue;
    const recorded = recordedChecksum(archived);
    if (recorded === null) {
      problems.push(
        `${archived.file} has no recorded checksum (${archived.checksumFile} is missing)`,
      );
      continue;
    }
    const actual = contentChecksum(archived);
    if (actual !== recorded) {
      problems.push(
        `${archived.file} is damaged: sha256 ${actual.slice(0, 16)}..., recorded ${recorded.slice(0, 16)}...`,
      );
    }
  }
  const segments = needed.filter(
    (name) => segmentPattern.test(name) && timelineOf(name) === timelineOf(first),
  );
  const perLogId = BigInt(0x100000000 / (set.manifest.walSegmentBytes ?? 16 * 1024 * 1024));
  for (const missing of gaps(first, set.manifest.stopWal, new Set(segments), perLogId)) {
    problems.push(`${completedWals}/${missing} is missing: the backup needs it`);
  }
  return { checked: needed.length, problems, newest: segments[segments.length - 1] ?? null };
}

/** Segments from `first` to `last` (same timeline) absent from `have`; at most ten. */
function gaps(first: string, last: string, have: Set<string>, perLogId: bigint): string[] {
  const missing: string[] = [];
  const tli = first.slice(0, 8);
  const hex = (value: bigint) => value.toString(16).toUpperCase().padStart(8, '0');
  const number = (name: string) =>
    BigInt(`0x${name.slice(8, 16)}`) * perLogId + BigInt(`0x${name.slice(16, 24)}`);
  for (let at = number(first); at <= number(last) && missing.length < 10; at++) {
    const name = `${tli}${hex(at / perLogId)}${hex(at % perLogId)}`;
    if (!have.has(name)) missing.push(name);
  }
  return missing;
}
