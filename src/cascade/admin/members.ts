/**
 * The live members of the cascade as one admin run sees them: connected and with their node
 * info, or listed as unreachable. Commands that change every member (tag-dead, drop-node)
 * connect to all of them first, so a later step never depends on a location table that an
 * earlier step has just changed.
 */
import type pg from 'pg';
import { getLocations, getNodeInfo, type Location, type NodeInfo } from '../node-calls.js';
import type { AdminSession } from './session.js';

export interface LiveMember {
  name: string;
  location: Location;
  db: pg.Client;
  info: NodeInfo;
}

export interface MemberScan {
  locations: Location[];
  live: LiveMember[];
  /** Tagged dead (in node_location or by --dead): not contacted. */
  dead: string[];
  unreachable: { name: string; error: string }[];
}

/**
 * A member's connection for a parallel scan: by the location already read (a lookup per
 * member would run concurrent queries on the one local connection), or the local one.
 */
export async function memberDb(
  session: AdminSession,
  localName: string | null,
  location: Location,
): Promise<pg.Client> {
  if (location.node_name === localName) return session.local();
  return session.node(location.node_name, location.node_location);
}

/** Every member (all in `locations`); those in `skip` are not contacted nor listed. */
export async function scanMembers(
  session: AdminSession,
  skip: ReadonlySet<string> = new Set(),
): Promise<MemberScan> {
  const localName = (await session.localInfo()).node_name;
  const locations = await getLocations(await session.local(), session.queue);
  const scan: MemberScan = { locations, live: [], dead: [], unreachable: [] };
  await Promise.all(
    locations.map(async (location) => {
      const name = location.node_name;
      if (skip.has(name)) return;
      if (location.dead || session.dead.has(name)) {
        scan.dead.push(name);
        return;
      }
      try {
        const db = await memberDb(session, localName, location);
        scan.live.push({ name, location, db, info: await getNodeInfo(db, session.queue) });
      } catch (error) {
        scan.unreachable.push({ name, error: (error as Error).message });
      }
    }),
  );
  scan.live.sort((a, b) => a.name.localeCompare(b.name));
  return scan;
}

export function warnUnreachable(session: AdminSession, scan: MemberScan, what: string): void {
  for (const u of scan.unreachable) {
    session.out.warn(`node ${u.name} does not answer, ${what} there: ${u.error}`);
  }
}
