/** The session walmgr opens on the master (`master_db`, libpq environment honoured). */
import type pg from 'pg';
import { openClient } from '../db/connect.js';

/** `masterDb` undefined: the libpq environment alone (`--synch-standby` without an INI). */
export function openMaster(masterDb: string | undefined): Promise<pg.Client> {
  return openClient(masterDb, { applicationName: 'walmgr', purpose: 'master_db' });
}

export async function serverVersionNum(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ v: string }>(
    "select current_setting('server_version_num') as v",
  );
  return Number(rows[0]?.v);
}
