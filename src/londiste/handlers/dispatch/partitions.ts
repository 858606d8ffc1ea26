/**
 * The dispatch family's partitions: which one a row goes to (the `part_name` template over
 * the period of a time) and making it when it is not there yet, in the batch's transaction:
 * `pre_part`, then `part_template` if given, else `part_func` (default
 * `londiste.create_partition`, then `public.create_partition`) if it exists, else a plain
 * clone of the parent's structure, then `post_part`. Before a new partition is made, those
 * past `retention_period` are dropped (`londiste.drop_obsolete_partitions`); with
 * `ignore_old_events` the events of a partition already past it are dropped instead of
 * making it again.
 *
 * Times are cut into periods on the server, in the session's time zone, as the CHECK of
 * `londiste.create_partition` cuts them, so a row and its partition always agree.
 */
import type pg from 'pg';
import { fromDatabaseError } from '../../../db/database-error.js';
import { quoteIdent } from '../../../db/quote.js';
import { type Logger, silentLogger } from '../../../pgq/logger.js';
import { fqname, quoteFqname, splitFqname } from '../../table-names.js';
import { defaultPartFunc, oldPartFunc, type PartConfig } from './config.js';
import { fillTemplate } from './template.js';

export interface TimeParts {
  year: string;
  month: string;
  day: string;
  hour: string;
}

/** The time "now" in a list of times: the batch transaction's now(). */
export const nowTime = '';

/**
 * The period parts of each time text (timestamptz input; {@link nowTime} for now()), read in
 * one statement. A text the server cannot read as a time fails with `describe(text)`.
 */
export async function timeParts(
  client: pg.ClientBase,
  times: readonly string[],
  describe: (time: string) => string,
): Promise<Map<string, TimeParts>> {
  const out = new Map<string, TimeParts>();
  if (times.length === 0) return out;
  let rows: { t: string; p: string }[];
  try {
    ({ rows } = await client.query<{ t: string; p: string }>(
      `select t, pg_catalog.to_char(coalesce(nullif(t, '')::timestamptz, pg_catalog.now()),
                                    'YYYY MM DD HH24') as p
         from pg_catalog.unnest($1::text[]) as t`,
      [times],
    ));
  } catch (error) {
    const bad = times.find((t) => t !== nowTime && !/^\s*\d{4,}-\d{1,2}-\d{1,2}/.test(t));
    throw fromDatabaseError(error, {
      action: `reading partition times${bad === undefined ? '' : ` (${describe(bad)})`}`,
    });
  }
  for (const { t, p } of rows) {
    const [year, month, day, hour] = p.split(' ') as [string, string, string, string];
    out.set(t, { year, month, day, hour });
  }
  return out;
}

export class Partitions {
  readonly #config: PartConfig;
  readonly #parent: string;
  #log: Logger = silentLogger;
  /** Partitions known to exist in this session. */
  readonly #known = new Set<string>();
  /** Partitions past retention whose events are dropped (ignore_old_events). */
  readonly #ignored = new Set<string>();

  /** `parent`: the stored name of the table the partitions are made of. */
  constructor(config: PartConfig, parent: string) {
    this.#config = config;
    this.#parent = fqname(parent);
  }

  /** The stored name of the partition of a time (no schema in the template: public). */
  name(parts: TimeParts): string {
    return fqname(fillTemplate(this.#config.name, { parent: this.#parent, ...parts }, 'part_name'));
  }

  ignored(part: string): boolean {
    return this.#ignored.has(part);
  }

  /** After a rollback, a partition made in it is gone again. */
  forget(): void {
    this.#known.clear();
  }

  /**
   * Make the partitions that do not exist yet; `partTime` gives a time inside each and
   * `pkeys` the key columns. Returns those whose events are to be dropped.
   */
  async ensure(
    client: pg.ClientBase,
    parts: ReadonlyMap<string, string>,
    pkeys: readonly string[],
    log: Logger,
  ): Promise<Set<string>> {
    this.#log = log;
    const missing: string[] = [];
    for (const part of parts.keys()) {
      if (this.#known.has(part) || this.#ignored.has(part)) continue;
      const { rows } = await client.query<{ there: boolean }>(
        'select pg_catalog.to_regclass($1) is not null as there',
        [quoteFqname(part)],
      );
      if (rows[0]?.there === true) this.#known.add(part);
      else missing.push(part);
    }
    const { retention } = this.#config;
    if (missing.length > 0 && retention !== null) {
      for (const part of [...missing]) {
        if (this.#config.ignoreOldEvents && (await this.#obsolete(client, part))) {
          this.#ignored.add(part);
          this.#log.info(
            { table: this.#parent, partition: part },
            `dispatch ${this.#parent}: events of ${part} ignored (past retention)`,
          );
          missing.splice(missing.indexOf(part), 1);
        }
      }
      if (missing.length > 0) await this.#dropObsolete(client);
    }
    for (const part of missing) {
      await this.#make(client, part, parts.get(part) as string, pkeys);
      this.#known.add(part);
    }
    return new Set([...parts.keys()].filter((part) => this.#ignored.has(part)));
  }

  async #obsolete(client: pg.ClientBase, part: string): Promise<boolean> {
    const { rows } = await client.query<{ old: boolean | null }>(
      'select londiste.is_obsolete_partition($1, $2::interval, $3) as old',
      [part, this.#config.retention, this.#config.period],
    );
    return rows[0]?.old === true;
  }

  async #dropObsolete(client: pg.ClientBase): Promise<void> {
    const { rows } = await client.query<{ part: string }>(
      'select p as part from londiste.drop_obsolete_partitions($1, $2::interval, $3) as p',
      [this.#parent, this.#config.retention, this.#config.period],
    );
    if (rows.length === 0) return;
    const dropped = rows.map((r) => r.part);
    // The names come quoted: look again at whatever is asked for next.
    this.#known.clear();
    this.#log.info(
      { table: this.#parent, dropped },
      `dispatch ${this.#parent}: dropped tables ${dropped.join(', ')}`,
    );
  }

  async #make(
    client: pg.ClientBase,
    part: string,
    partTime: string,
    pkeys: readonly string[],
  ): Promise<void> {
    const config = this.#config;
    const { schema, name } = splitFqname(part);
    const values: Record<string, string> = {
      dest: quoteFqname(part),
      part: quoteFqname(part),
      parent: quoteFqname(this.#parent),
      pkeys: pkeys.map(quoteIdent).join(','),
      schema_table: `${schema}__${name}`,
      part_field: config.field ?? '',
      part_time: partTime === nowTime ? 'now' : partTime,
      period: config.period,
    };
    const run = async (what: string, template: string | null) => {
      if (template === null) return false;
      const sql = fillTemplate(template, values, what);
      try {
        await client.query(sql);
      } catch (error) {
        throw fromDatabaseError(error, { action: `${what} of partition ${part}`, table: part });
      }
      return true;
    };
    await run('pre_part', config.prePart);
    if (!(await run('part_template', config.template))) {
      const func = await this.#partFunc(client);
      try {
        if (func !== null) {
          await client.query(`select ${quoteFqname(func)}($1, $2, $3, $4, $5::timestamptz, $6)`, [
            this.#parent,
            part,
            pkeys.join(','),
            config.field,
            partTime === nowTime ? 'now' : partTime,
            config.period,
          ]);
        } else {
          this.#log.info(
            { table: this.#parent, partition: part },
            `dispatch: no function ${config.func}: ${part} made as a clone of ${this.#parent}`,
          );
          await client.query(
            `create table ${quoteFqname(part)} (like ${quoteFqname(this.#parent)} including all)`,
          );
        }
      } catch (error) {
        throw fromDatabaseError(error, {
          action: `making partition ${part} of ${this.#parent}`,
          table: part,
        });
      }
    }
    await run('post_part', config.postPart);
    this.#log.info({ table: this.#parent, partition: part }, `dispatch: created table ${part}`);
  }

  /** part_func if it exists with six arguments (the default falls back to the old one). */
  async #partFunc(client: pg.ClientBase): Promise<string | null> {
    const candidates =
      this.#config.func === defaultPartFunc ? [defaultPartFunc, oldPartFunc] : [this.#config.func];
    for (const func of candidates) {
      const { schema, name } = splitFqname(func);
      const { rows } = await client.query<{ found: boolean }>(
        `select exists (select 1 from pg_catalog.pg_proc p
                          join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                         where n.nspname = $1 and p.proname = $2 and p.pronargs = 6) as found`,
        [schema, name],
      );
      if (rows[0]?.found === true) return func;
    }
    return null;
  }
}
