/**
 * A backup set taken by PostgreSQL's `pg_basebackup` over a replication connection (upstream's
 * createslave did the same): plain format with the WAL it needs streamed into `pg_wal`, SHA-256
 * checksums in its `backup_manifest`, which becomes walmgr's manifest without reading the files
 * again. Tablespaces go to `tmpspc/<oid>` as in walmgr's own backups.
 */
import { spawn } from 'node:child_process';
import { readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { startIncoming } from './backup.js';
import {
  type BackupManifest,
  type BackupSet,
  listSets,
  manifestName,
  rotateSets,
} from './backup-sets.js';
import { releaseBackupLock } from './control-files.js';
import { fsyncDir, writeDurable } from './durable.js';
import { WalmgrError } from './errors.js';
import type { WalmgrLog } from './log.js';
import { chownTree, type Owner } from './ownership.js';
import type { WalmgrSettings } from './settings.js';
import { walFileOf } from './wal-names.js';

interface ManifestJson {
  Files: { Path: string; Size: number; 'Checksum-Algorithm'?: string; Checksum?: string }[];
  'WAL-Ranges': { Timeline: number; 'Start-LSN': string; 'End-LSN': string }[];
}

export async function backupWithClient(
  settings: WalmgrSettings,
  client: pg.Client,
  program: string,
  owner: Owner | null,
  log: WalmgrLog,
  label: string,
): Promise<BackupSet> {
  const conninfo = settings.primaryConninfo as string;
  const server = (
    await client.query<{ num: string; version: string; seg: string }>(
      "select current_setting('server_version_num') as num, current_setting('server_version') as version, setting::bigint * case unit when 'B' then 1 when 'MB' then 1048576 else 8192 end as seg from pg_settings where name = 'wal_segment_size'",
    )
  ).rows[0] as { num: string; version: string; seg: string };
  const spaces = (
    await client.query<{ oid: string; location: string }>(
      "select oid::text, pg_tablespace_location(oid) as location from pg_tablespace where spcname not in ('pg_default', 'pg_global')",
    )
  ).rows;
  const incoming = startIncoming(settings, owner, log);
  try {
    const startTime = new Date().toISOString();
    const mapping = spaces
      .filter((space) => path.isAbsolute(space.location))
      .flatMap((space) => ['-T', `${space.location}=${path.join(incoming, 'tmpspc', space.oid)}`]);
    const args = [
      ...['-D', incoming, '-d', conninfo, '-X', 'stream', '-c', 'fast', '-l', label],
      ...['--manifest-checksums=SHA256', '--no-password', ...mapping],
    ];
    log.info(`running ${program} -D ${incoming} (label "${label}")`);
    await runProgram(program, args, log);
    const json = JSON.parse(
      readFileSync(path.join(incoming, 'backup_manifest'), 'utf8'),
    ) as ManifestJson;
    const range = json['WAL-Ranges'][0];
    if (range === undefined) {
      throw new WalmgrError('BACKUP_FAILED', `${program} wrote a manifest without WAL range`, {});
    }
    const segmentBytes = Number(server.seg);
    for (const space of spaces)
      rmSync(path.join(incoming, 'pg_tblspc', space.oid), { force: true });
    const manifest: BackupManifest = {
      format: 1,
      label,
      pgVersion: server.version,
      serverVersionNum: Number(server.num),
      startLsn: range['Start-LSN'],
      stopLsn: range['End-LSN'],
      startWal: walFileOf(range['Start-LSN'], range.Timeline, segmentBytes),
      stopWal: walFileOf(range['End-LSN'], range.Timeline, segmentBytes, true),
      timeline: range.Timeline,
      walSegmentBytes: segmentBytes,
      startTime,
      stopTime: new Date().toISOString(),
      tablespaces: spaces,
      files: json.Files.filter((file) => file.Checksum !== undefined).map((file) => ({
        path: file.Path.replace(/^pg_tblspc\/(\d+)\//, 'tmpspc/$1/'),
        size: file.Size,
        sha256: (file.Checksum as string).toLowerCase(),
      })),
    };
    writeDurable(path.join(incoming, manifestName), `${JSON.stringify(manifest, null, 1)}\n`);
    fsyncDir(incoming);
    chownTree(incoming, owner);
    for (const dir of rotateSets(settings.fullBackup, settings.keepBackups, () => {})) {
      log.info(`deleted old backup ${dir}`);
    }
    renameSync(incoming, settings.fullBackup);
    fsyncDir(path.dirname(settings.fullBackup));
    log.info(
      `backup ${settings.fullBackup} complete: ${manifest.files.length} files, WAL ${manifest.startWal} to ${manifest.stopWal}`,
    );
    return listSets(settings.fullBackup)[0] as BackupSet;
  } catch (error) {
    rmSync(incoming, { recursive: true, force: true });
    throw error;
  } finally {
    releaseBackupLock(settings.completedWals, process.pid);
  }
}

function runProgram(program: string, args: string[], log: WalmgrLog): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        if (output.trim() !== '') log.debug(output.trim());
        resolve();
        return;
      }
      const last = output.trim().split('\n').slice(-2).join(' / ');
      reject(
        new WalmgrError(
          'BACKUP_FAILED',
          `${path.basename(program)} failed (exit ${code ?? signal}): ${last}`,
          { program },
        ),
      );
    });
  });
}
