import { execFileSync, spawnSync } from 'node:child_process';
import { ClusterError } from './errors.js';

/** The OS account a server runs as. `null` from {@link serverAccount} means "this process". */
export interface OsAccount {
  name: string;
  uid: number;
  gid: number;
}

/** Default account for servers started by root; PostgreSQL refuses to run as root. */
export const defaultServerUser = 'skytools';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The account the server must run as: `null` when we are not root (the server runs as we do),
 * else the named unprivileged user, created as a system user if it does not exist yet.
 */
export function serverAccount(
  name = process.env.SKYTOOLS_PG_OS_USER || defaultServerUser,
): OsAccount | null {
  if (!isRoot()) return null;
  if (name === 'root') {
    throw new ClusterError('OS_USER', 'PostgreSQL cannot run as root: choose another OS user', {
      user: name,
    });
  }
  return lookupAccount(name) ?? createSystemAccount(name);
}

export function lookupAccount(name: string): OsAccount | null {
  const result = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  if (result.status !== 0) return null;
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  return { name, uid: Number(result.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The user name of a uid, or `uid N` when it has no name. */
export function accountName(uid: number): string {
  const result = spawnSync('id', ['-nu', String(uid)], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : `uid ${uid}`;
}

function createSystemAccount(name: string): OsAccount {
  const attempts: [string, string[]][] = [
    ['useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/bin/false', name]],
    ['adduser', ['-S', '-D', '-H', name]],
  ];
  const failures: string[] = [];
  for (const [command, args] of attempts) {
    try {
      execFileSync(command, args, { stdio: 'pipe' });
      const created = lookupAccount(name);
      if (created) return created;
    } catch (error) {
      failures.push(`${command}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new ClusterError(
    'OS_USER',
    `cannot create OS user "${name}" to run PostgreSQL (it refuses to run as root): ${failures.join('; ')}`,
    { user: name },
  );
}
