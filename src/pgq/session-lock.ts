/**
 * The session advisory lock that makes a process the only one of its name (a consumer, a
 * node's worker), and the recovery a network failure needs: the server may keep our previous
 * session, and its lock, long after the client lost it. Every session this object opens
 * notes its pid before the lock attempt, so a lingering session is recognised as ours even
 * when the reply granting it the lock never arrived, and is ended; any other holder refuses.
 */
import type pg from 'pg';
import type { Logger } from './logger.js';
import { sleep } from './wakeup.js';

const backendPidSql = 'select pg_backend_pid() as pid';
const tryLockSql = 'select pg_try_advisory_lock(hashtext($1), hashtext($2)) as locked';
// Advisory locks belong to one database; the same key may be held in another one.
const holderSql =
  "select l.pid from pg_locks l where l.locktype = 'advisory' and l.objsubid = 2 and l.granted" +
  ' and l.database = (select oid from pg_database where datname = current_database())' +
  ' and l.classid::int8 = (hashtext($1)::int8 & 4294967295)' +
  ' and l.objid::int8 = (hashtext($2)::int8 & 4294967295)';
const terminateSql = 'select pg_terminate_backend($1) as terminated';

/** How many of our own sessions to remember: enough for reconnects in quick succession. */
const remembered = 8;

export class SessionLock {
  readonly #ownPids: number[] = [];

  constructor(
    /** Hashed into the two-key advisory lock (hashtext of each). */
    readonly key: readonly [string, string],
    readonly refusal: (holderPid: number | undefined) => Error,
    readonly log?: Logger,
  ) {}

  /** Take the lock on `client`'s session, ending our own lingering session if it holds it. */
  async take(client: pg.Client): Promise<void> {
    const self = (await client.query<{ pid: number }>(backendPidSql)).rows[0]?.pid;
    if (self !== undefined) {
      this.#ownPids.push(self);
      if (this.#ownPids.length > remembered) this.#ownPids.shift();
    }
    const key = [...this.key];
    for (let attempt = 0; ; attempt++) {
      const { rows } = await client.query<{ locked: boolean }>(tryLockSql, key);
      if (rows[0]?.locked === true) return;
      const pid = (await client.query<{ pid: number }>(holderSql, key)).rows[0]?.pid;
      if (pid === undefined && attempt < 5) continue; // released between the two queries
      if (pid !== undefined && pid !== self && this.#ownPids.includes(pid) && attempt < 50) {
        if (attempt === 0) {
          this.log?.warn({ pid }, 'our previous session still holds the lock: terminating it');
          await client.query(terminateSql, [pid]);
        }
        await sleep(100);
        continue;
      }
      throw this.refusal(pid);
    }
  }
}
