import { spawn } from 'node:child_process';

/**
 * Start a tiny detached watcher that shuts the server down (immediate mode) if the process
 * that started it dies without stopping it: a crashed test worker, a SIGKILLed demo. It exits
 * by itself once the server's postmaster.pid is gone, i.e. after a normal stop.
 * With `removeDir`, it also deletes the cluster directory after the shutdown (throwaway clusters).
 */
export function startGuardian(pidFile: string, removeDir: string | null): void {
  const script = [
    'owner=$1; pidfile=$2; dir=$3',
    'while kill -0 "$owner" 2>/dev/null && [ -f "$pidfile" ]; do sleep 1; done',
    'if [ -f "$pidfile" ]; then',
    '  pid=$(head -n 1 "$pidfile")',
    '  kill -QUIT "$pid" 2>/dev/null',
    '  n=0; while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done',
    '  kill -KILL "$pid" 2>/dev/null',
    '  [ -n "$dir" ] && rm -rf -- "$dir"',
    'fi',
  ].join('\n');
  const child = spawn(
    '/bin/sh',
    ['-c', script, 'skytools-pg-guardian', String(process.pid), pidFile, removeDir ?? ''],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
}
