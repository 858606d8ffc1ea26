/**
 * The databases one monitor looks at, read in parallel at each look (no cache: every
 * `/metrics`, Munin fetch or dashboard poll reads the servers). Looks that come while one is
 * running share it, so a burst of scrapes costs one round per database.
 */
import { parseConnString } from '../db/connstring.js';
import { SkytoolsError } from '../errors.js';
import { DatabaseReader } from './database-reader.js';
import type { MonitorSnapshot } from './snapshot.js';

export class Monitor {
  readonly #readers: DatabaseReader[];
  #inFlight: Promise<MonitorSnapshot> | null = null;

  /** `databases`: libpq key=value strings or URLs; none = the libpq environment. */
  constructor(databases: readonly string[]) {
    const sources = databases.length > 0 ? databases : [undefined];
    const labels = databaseLabels(sources);
    this.#readers = sources.map((source, i) => new DatabaseReader(source, labels[i] ?? ''));
  }

  /** The `database` label of each database, in the order given. */
  get databases(): string[] {
    return this.#readers.map((r) => r.label);
  }

  snapshot(): Promise<MonitorSnapshot> {
    this.#inFlight ??= this.#look().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async close(): Promise<void> {
    await this.#inFlight?.catch(() => {});
    await Promise.all(this.#readers.map((r) => r.close()));
  }

  async #look(): Promise<MonitorSnapshot> {
    const started = performance.now();
    const databases = await Promise.all(this.#readers.map((r) => r.read()));
    return { databases, durationSeconds: (performance.now() - started) / 1000 };
  }
}

/**
 * The database name of each source; host:port/name for names that two sources share, and
 * the whole description when even that is not unique.
 */
export function databaseLabels(sources: readonly (string | undefined)[]): string[] {
  const parsed = sources.map((source) => {
    let config: ReturnType<typeof parseConnString>;
    try {
      config = source === undefined ? {} : parseConnString(source);
    } catch (error) {
      throw new SkytoolsError(
        'BAD_CONNSTRING',
        `--db ${JSON.stringify(source)}: ${(error as Error).message}`,
        {},
        { cause: error },
      );
    }
    const env = process.env;
    const database = String(config.database ?? env.PGDATABASE ?? config.user ?? env.PGUSER ?? '');
    const host = String(config.host ?? env.PGHOST ?? 'localhost');
    const port = String(config.port ?? env.PGPORT ?? 5432);
    return { database, long: `${host}:${port}/${database}` };
  });
  const count = (values: string[], v: string) => values.filter((x) => x === v).length;
  const names = parsed.map((p) => p.database);
  const longs = parsed.map((p) => p.long);
  return parsed.map((p, i) => {
    if (p.database !== '' && count(names, p.database) === 1) return p.database;
    if (count(longs, p.long) === 1) return p.long;
    return `${p.long}#${i + 1}`;
  });
}
