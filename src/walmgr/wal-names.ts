/** WAL file names as PostgreSQL writes them (`pg_wal/`, the archive). */

/** `000000010000000000000003`: timeline, log, segment, 8 hex digits each. */
export const segmentPattern = /^[0-9A-F]{24}$/;
/** `00000002.history`. */
export const historyPattern = /^[0-9A-F]{8}\.history$/;
/** `000000010000000000000003.00000028.backup`. */
export const backupHistoryPattern = /^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$/;
/** `000000010000000000000003.partial` (the last segment of an old timeline). */
export const partialPattern = /^[0-9A-F]{24}\.partial$/;

/** Whether `name` is a file PostgreSQL may hand to archive_command or ask of restore_command. */
export function isWalFileName(name: string): boolean {
  return (
    segmentPattern.test(name) ||
    historyPattern.test(name) ||
    backupHistoryPattern.test(name) ||
    partialPattern.test(name)
  );
}

export function timelineOf(name: string): number {
  return Number.parseInt(name.slice(0, 8), 16);
}

/** The segment part (24 hex digits) of a segment, partial or backup history name. */
export function segmentOf(name: string): string {
  return name.slice(0, 24);
}

/**
 * The WAL file holding `lsn` (`X/Y`) on `timeline`; with `previous`, the file holding the byte
 * just before it, as `pg_walfile_name` names a stop position at a segment boundary.
 */
export function walFileOf(
  lsn: string,
  timeline: number,
  segmentBytes: number,
  previous = false,
): string {
  const [high, low] = lsn.split('/') as [string, string];
  let position = (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
  if (previous && position > 0n) position -= 1n;
  const segment = position / BigInt(segmentBytes);
  const perId = 0x100000000n / BigInt(segmentBytes);
  const hex = (value: bigint | number) => value.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(segment / perId)}${hex(segment % perId)}`;
}
