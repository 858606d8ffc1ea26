/**
 * `syncdaemon`: `sync` every `loop_delay` seconds until SIGTERM/SIGINT, one session on the master
 * kept open (opened again after a failure, which is logged and does not end the daemon). With
 * `pidfile`, the pid is recorded there and `stop` ends the daemon through it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type pg from 'pg';
import { WalmgrError } from './errors.js';
import type { WalmgrLog } from './log.js';
import { openMaster } from './master-session.js';
import { partialsOf, type SyncRound, syncPartial } from './partial-sync.js';
import type { WalmgrSettings } from './settings.js';

export function describeRound(round: SyncRound): string {
  const ranges = round.shipped.map((part) => `${part.name} ${part.from}-${part.to}`);
  const removed = round.removed.length > 0 ? `; removed ${round.removed.length} archived` : '';
  return `${ranges.length > 0 ? `shipped ${ranges.join(', ')}` : 'nothing new'}${removed}`;
}

export async function syncDaemon(settings: WalmgrSettings, log: WalmgrLog): Promise<void> {
  claimPidfile(settings.pidfile);
  let running = true;
  let wake: () => void = () => {};
  const stop = () => {
    running = false;
    wake();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  let client: pg.Client | null = null;
  // One target for every round: a remote one keeps the position in memory.
  const target = partialsOf(settings);
  log.info(`syncdaemon: shipping the partial WAL every ${settings.loopDelay} s`);
  try {
    while (running) {
      try {
        client ??= await openMaster(settings.masterDb);
        const round = await syncPartial(settings, client, false, target);
        if (round.shipped.length > 0) log.info(describeRound(round));
      } catch (error) {
        log.warning(`sync failed: ${(error as Error).message}`);
        await client?.end().catch(() => {});
        client = null;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, settings.loopDelay * 1000).unref();
      });
    }
  } finally {
    await client?.end().catch(() => {});
    if (settings.pidfile !== undefined) rmSync(settings.pidfile, { force: true });
    log.info('syncdaemon stopped');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pidIn(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
}

function claimPidfile(file: string | undefined): void {
  if (file === undefined) return;
  const holder = pidIn(file);
  if (holder !== null && holder !== process.pid) {
    throw new WalmgrError('COMMAND_FAILED', `a syncdaemon runs already (pid ${holder}, ${file})`, {
      pidfile: file,
      pid: holder,
    });
  }
  writeFileSync(file, `${process.pid}\n`);
}

/** `stop` ends a running syncdaemon named by `pidfile`; returns its pid, or null. */
export function stopSyncDaemon(
  settings: WalmgrSettings,
  log: WalmgrLog,
  notReally = false,
): number | null {
  if (settings.pidfile === undefined) return null;
  const pid = pidIn(settings.pidfile);
  if (pid === null) return null;
  log.info(`${notReally ? 'would stop' : 'stopping'} the syncdaemon (pid ${pid})`);
  if (!notReally) process.kill(pid, 'SIGTERM');
  return pid;
}
