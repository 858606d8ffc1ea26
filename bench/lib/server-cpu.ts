import { readFileSync } from 'node:fs';
import type pg from 'pg';

/**
 * CPU seconds the PostgreSQL server has used so far: the postmaster, its live children and
 * the children it has already reaped (a backend that exited counts through the postmaster's
 * cutime/cstime). Null when the server is not on this machine (a --db elsewhere).
 */
export async function serverCpuReader(client: pg.Client): Promise<(() => number) | null> {
  const { rows } = await client.query<{ pid: number }>(
    "select pid from pg_stat_activity where backend_type = 'checkpointer'",
  );
  const checkpointer = rows[0]?.pid;
  if (checkpointer === undefined) return null;
  const postmaster = statFields(checkpointer)?.ppid;
  if (postmaster === undefined) return null;
  const ticks = 100; // USER_HZ on Linux
  return () => {
    const own = statFields(postmaster);
    if (!own) throw new Error(`bench: the server process ${postmaster} is gone`);
    let total = own.utime + own.stime + own.cutime + own.cstime;
    for (const pid of childrenOf(postmaster)) {
      const child = statFields(pid);
      if (child) total += child.utime + child.stime;
    }
    return total / ticks;
  };
}

/** CPU seconds (user + system) process `pid` of this machine has used so far; undefined when gone. */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = statFields(pid);
  return stat === undefined ? undefined : (stat.utime + stat.stime) / 100; // USER_HZ on Linux
}

interface Stat {
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

function statFields(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // not on this machine, or exited: counted by the postmaster then
  }
  // Fields after "(comm) ": state ppid ... utime(14) stime(15) cutime(16) cstime(17).
  const f = text
    .slice(text.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return {
    ppid: f[1] as number,
    utime: f[11] as number,
    stime: f[12] as number,
    cutime: f[13] as number,
    cstime: f[14] as number,
  };
}

function childrenOf(parent: number): number[] {
  try {
    const text = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim();
    return text ? text.split(' ').map(Number) : [];
  } catch {
    return [];
  }
}
