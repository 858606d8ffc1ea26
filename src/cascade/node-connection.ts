/**
 * Connections to cascade nodes by their public location (node_location), as both the worker
 * (to its provider) and the admin (to every member) open them. Upstream appends the
 * `remote_extra_connstr` setting to every location-built connect string (e.g. a password or
 * sslmode that the public location leaves out); a URL location cannot take key=value extras,
 * so that combination is refused rather than silently dropping the extras.
 */
import type pg from 'pg';
import { connectClient } from '../db/connect.js';
import { SkytoolsError } from '../errors.js';
import { CascadeError } from './node-calls.js';

export interface NodeConnectOptions {
  /** Appended to every node location (upstream's `remote_extra_connstr`). */
  extraConnstr?: string;
  applicationName?: string;
}

/** The connect string used for a node's public location. */
export function locationConnstr(location: string, extraConnstr = ''): string {
  const extra = extraConnstr.trim();
  if (extra === '') return location;
  if (/^postgres(ql)?:\/\//.test(location.trim())) {
    throw new SkytoolsError(
      'BAD_CONNSTRING',
      'remote_extra_connstr cannot be appended to a URL location; register the location as key=value pairs',
      {},
    );
  }
  return `${location} ${extra}`;
}

/** Connect to a node's public location; a failure names queue and node. */
export async function connectNode(
  location: string,
  context: { queue: string; node: string },
  options: NodeConnectOptions = {},
): Promise<pg.Client> {
  try {
    return await connectClient(
      locationConnstr(location, options.extraConnstr),
      options.applicationName ?? 'skytools cascade',
    );
  } catch (error) {
    throw new CascadeError(
      'NODE_UNREACHABLE',
      `node ${context.node} of queue ${context.queue} does not answer: ${(error as Error).message}`,
      context,
      { cause: error },
    );
  }
}
