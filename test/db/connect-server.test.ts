/**
 * The opener against a real server: the session's application_name, a failure to connect
 * told in one line without the password, and `onBroken` when the server ends the session.
 */
import { describe, expect, it } from 'vitest';
import { openClient } from '../../src/db/connect.js';
import { SkytoolsError } from '../../src/errors.js';
import { findFreePort } from '../../src/pg/index.js';
import { useTestDatabase } from '../harness/database.js';
import { waitFor } from './helpers.js';

const db = useTestDatabase();
const base = () =>
  `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user} dbname='${db.name}'`;

async function applicationName(connstring: string, tool: string): Promise<string> {
  const client = await openClient(connstring, { applicationName: tool });
  try {
    const { rows } = await client.query("select current_setting('application_name') as name");
    return rows[0].name;
  } finally {
    await client.end();
  }
}

describe('openClient on a real server', () => {
  it('names the session after the tool unless the connect string names it', async () => {
    expect(await applicationName(base(), 'setadm')).toBe('setadm');
    expect(await applicationName(`${base()} application_name=mine`, 'setadm')).toBe('mine');
    const url = `postgresql://${db.cluster.user}@${db.cluster.host}:${db.cluster.port}/${encodeURIComponent(db.name)}?application_name=from-url`;
    expect(await applicationName(url, 'pgqd')).toBe('from-url');
  });

  it('an unreachable server gives one line naming it, never the password', async () => {
    const port = await findFreePort();
    const sources = [
      `host=127.0.0.1 port=${port} user=u password=hunter2 dbname=d`,
      `postgresql://u:hunter2@127.0.0.1:${port}/d`,
    ];
    for (const source of sources) {
      const error = await openClient(source, { applicationName: 't' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SkytoolsError);
      expect((error as SkytoolsError).code).toBe('CONNECT_FAILED');
      expect((error as Error).message).toMatch(
        new RegExp(`^cannot connect to u@127\\.0\\.0\\.1:${port}/d: .*ECONNREFUSED`),
      );
      const everything = [
        (error as Error).message,
        (error as Error).stack,
        JSON.stringify((error as SkytoolsError).context),
        String((error as Error).cause),
      ].join('\n');
      expect(everything).not.toContain('hunter2');
    }
  });

  it('calls onBroken once when the server ends the session, and the process lives on', async () => {
    let broken = 0;
    const client = await openClient(`${base()} application_name=broken-test`, {
      applicationName: 't',
      onBroken: () => broken++,
    });
    try {
      const admin = await db.connect();
      await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'broken-test'",
      );
      await waitFor(async () => broken > 0, 'onBroken');
      await expect(client.query('select 1')).rejects.toThrow();
      expect(broken).toBe(1);
    } finally {
      await client.end().catch(() => {});
    }
  });
});
