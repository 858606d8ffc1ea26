/**
 * Recovery settings of a restored data directory (PostgreSQL >= 12: `postgresql.auto.conf`
 * and a signal file, where upstream wrote recovery.conf). Our lines replace any earlier line
 * for the same setting, so the file stays as ALTER SYSTEM would leave it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quoteLiteral } from '../db/quote.js';

export interface RecoveryTarget {
  time?: string;
  lsn?: string;
  xid?: string;
  name?: string;
  /** `recovery_target_inclusive` (PostgreSQL's default: true). */
  inclusive?: boolean;
  /** What the server does at the target: `promote` (ours by default), `pause`, `shutdown`. */
  action?: 'promote' | 'pause' | 'shutdown';
}

export function hasTarget(target: RecoveryTarget): boolean {
  return [target.time, target.lsn, target.xid, target.name].some((value) => value !== undefined);
}

/** The `name = 'value'` settings for a target. */
export function targetSettings(target: RecoveryTarget): Record<string, string> {
  const given = [
    ['recovery_target_time', target.time],
    ['recovery_target_lsn', target.lsn],
    ['recovery_target_xid', target.xid],
    ['recovery_target_name', target.name],
  ].filter(([, value]) => value !== undefined) as [string, string][];
  const out: Record<string, string> = Object.fromEntries(given);
  if (given.length === 0) return out;
  if (target.inclusive !== undefined) out.recovery_target_inclusive = String(target.inclusive);
  out.recovery_target_action = target.action ?? 'promote';
  return out;
}

/** Write `settings` into `dataDir/postgresql.auto.conf`, replacing earlier lines of the same names. */
export function writeAutoConf(dataDir: string, settings: Record<string, string>): void {
  const file = path.join(dataDir, 'postgresql.auto.conf');
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const names = new Set(Object.keys(settings));
  const kept = before
    .split('\n')
    .filter((line) => !names.has(/^\s*([A-Za-z_.]+)\s*=?/.exec(line)?.[1]?.toLowerCase() ?? ''));
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  const added = Object.entries(settings).map(([name, value]) => `${name} = ${quoteLiteral(value)}`);
  writeFileSync(file, `${[...kept, '# walmgr restore', ...added].join('\n')}\n`, { mode: 0o600 });
}
