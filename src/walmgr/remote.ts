/**
 * A slave on another host, as upstream drove it: walmgr runs there over ssh
 * (`ssh -T <slave> <slave_walmgr> <slave_config> <command>`), and files go there with
 * `rsync -a` (exit 24, files that vanished while rsync read the live data directory, is fine:
 * WAL replay rebuilds them). Built-ins only: the archive_command's lean path uses it.
 */
import { spawnSync } from 'node:child_process';
import { shellWord } from './commands-path.js';
import { WalmgrError } from './errors.js';
import type { RemoteSlave } from './settings.js';
import type { TreeEntry } from './tree-copy.js';

/** The command line the slave's shell runs. */
export function slaveCommandLine(remote: RemoteSlave, args: string[]): string {
  return [remote.walmgr, ...[remote.config, ...args].map(shellWord)].join(' ');
}

/**
 * Run `walmgr <slave_config> ARGS` on the slave; returns its stdout. `input` is a file
 * descriptor or bytes for its stdin (none: stdin is empty, as upstream's `ssh -n`). A failure
 * is one line naming the host, the command and the slave's last error line.
 */
export function runOnSlave(
  remote: RemoteSlave,
  args: string[],
  input?: number | Buffer | string,
): string {
  const [ssh, ...options] = remote.ssh as [string, ...string[]];
  const run = spawnSync(ssh, [...options, '-T', remote.host, slaveCommandLine(remote, args)], {
    stdio: [
      typeof input === 'number' ? input : input === undefined ? 'ignore' : 'pipe',
      'pipe',
      'pipe',
    ],
    ...(input !== undefined && typeof input !== 'number' ? { input } : {}),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error !== undefined) {
    throw new WalmgrError('COMMAND_FAILED', `cannot run ${ssh}: ${run.error.message}`, {
      host: remote.host,
    });
  }
  if (run.status !== 0) {
    throw new WalmgrError(
      'COMMAND_FAILED',
      `walmgr ${args[0] ?? ''} on ${remote.host} failed (exit ${run.status ?? run.signal}): ${lastLine(run.stderr)}`,
      { host: remote.host, command: slaveCommandLine(remote, args), stderr: run.stderr },
    );
  }
  return run.stdout;
}

/**
 * `rsync -a` of `files` (paths relative to `from`, directories listed themselves) into
 * `to` on the slave, made first if missing.
 */
export function rsyncToSlave(remote: RemoteSlave, from: string, files: string[], to: string): void {
  const run = spawnSync(
    'rsync',
    [
      ...['-a', '--quiet', '--mkpath', '--from0', '--files-from=-'],
      ...['-e', remote.ssh.map(shellWord).join(' ')],
      `${from}/`,
      `${remote.host}:${to}/`,
    ],
    { input: files.map((file) => `${file}\0`).join(''), encoding: 'utf8' },
  );
  if (run.error !== undefined) {
    throw new WalmgrError('COMMAND_FAILED', `cannot run rsync: ${run.error.message}`, {
      host: remote.host,
    });
  }
  if (run.status !== 0 && run.status !== 24) {
    throw new WalmgrError(
      'COMMAND_FAILED',
      `rsync of ${from} to ${remote.host}:${to} failed (exit ${run.status ?? run.signal}): ${lastLine(run.stderr)}`,
      { host: remote.host, from, to, stderr: run.stderr },
    );
  }
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .at(-1) ?? 'no message'
  );
}

/**
 * A backup's selection of the data directory into `incoming` on the slave: the entries at
 * their own path in one rsync, each tablespace's (read from `source`) in one more.
 */
export function rsyncEntries(
  remote: RemoteSlave,
  masterData: string,
  entries: TreeEntry[],
  incoming: string,
): void {
  const groups = new Map<string, { from: string; to: string; files: string[] }>();
  for (const entry of entries) {
    const space = /^tmpspc\/(\d+)(?:\/(.*))?$/.exec(entry.path);
    const key = space ? (space[1] as string) : '';
    let group = groups.get(key);
    if (group === undefined) {
      group = space
        ? {
            from: `${masterData}/pg_tblspc/${key}`,
            to: `${incoming}/tmpspc/${key}`,
            files: [],
          }
        : { from: masterData, to: incoming, files: [] };
      groups.set(key, group);
    }
    const relative = space ? space[2] : entry.path;
    if (relative !== undefined) group.files.push(relative);
  }
  for (const group of groups.values()) rsyncToSlave(remote, group.from, group.files, group.to);
}
