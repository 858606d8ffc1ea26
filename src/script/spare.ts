/**
 * A daemon started ahead of need: the process is spawned as `spawnDaemon` spawns one, loads
 * its modules, and then waits for the rest of its command line (what it is to work on) from
 * the process that started it. Node's start and module loading (about half a second on a
 * busy machine) are then behind it when the work arrives: the Londiste worker keeps one
 * spare copy process, so an added table's data starts to move at once.
 *
 * A spare that loses its parent before it gets its arguments (the parent stopped or died)
 * exits at once, without a word in any log.
 */
import type { ChildProcess } from 'node:child_process';
import { type DaemonOptions, daemonReady, startDaemonChild } from './daemon.js';
import { type SpareMessage, spareMarker } from './spare-child.js';

export interface Spare {
  readonly pid: number | undefined;
  /** Whether it waits for its arguments now (loaded, alive, not yet given any). */
  readonly waiting: boolean;
  /**
   * Hands it the rest of its command line; resolves with its pid once it has written its
   * pidfile, as spawnDaemon does. A spare that is not waiting rejects.
   */
  start(args: string[]): Promise<number>;
  /** Ends a spare that was not started. */
  discard(): void;
}

/**
 * Spawn a spare of `options.script` with the first part of its command line; `onWaiting`
 * once it has loaded and waits.
 */
export function spawnSpare(options: DaemonOptions, onWaiting?: (pid: number) => void): Spare {
  const child: ChildProcess = startDaemonChild(options, { [spareMarker]: '1' });
  let waiting = false;
  let used = false;
  const onMessage = (message: SpareMessage) => {
    if (!('spare' in message) || message.spare !== 'waiting' || used) return;
    waiting = true;
    onWaiting?.(child.pid as number);
  };
  child.on('message', onMessage);
  child.once('exit', () => {
    waiting = false;
  });
  // A spare never holds its parent up: the parent's exit ends the channel, and the spare.
  child.unref();
  child.channel?.unref();
  child.on('error', () => {
    waiting = false;
  });
  return {
    get pid() {
      return child.pid;
    },
    get waiting() {
      return waiting && child.exitCode === null && child.signalCode === null && child.connected;
    },
    start(args) {
      if (!this.waiting) {
        return Promise.reject(new Error(`the spare process ${child.pid} is not waiting`));
      }
      used = true;
      waiting = false;
      child.removeListener('message', onMessage);
      const ready = daemonReady(child, options.script);
      child.send({ args } satisfies SpareMessage);
      return ready;
    },
    discard() {
      waiting = false;
      used = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
