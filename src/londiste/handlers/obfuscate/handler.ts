/**
 * `obfuscate` (spec §6.5): a table's rows with each column kept, dropped or obfuscated by
 * the rules of the INI's `obfuscator_map` (map.ts, rules.ts), keyed with `obfuscator_key`;
 * applied alike to replay (the default handler's set-based apply of the rewritten rows) and
 * to the copy (the source's COPY text rewritten row by row on its way). Key columns that are
 * hashed stay keys: the same value always gives the same hash, so updates and deletes find
 * their rows. Rows come from urlencoded events (`pgq.logutriga`, what add-table installs).
 */

import { quoteIdent } from '../../../db/quote.js';
import { SkytoolsError } from '../../../errors.js';
import { copyField, parseCopyLine } from '../../../pgq/copy-text.js';
import type { Event } from '../../../pgq/event.js';
import { urldecode } from '../../../pgq/urlencode.js';
import { isTruncateEvent, ShapeCache, textRowChange } from '../../apply/row-change.js';
import { TableApplier } from '../../apply/table-applier.js';
import { describeRelation } from '../../copy/columns.js';
import { streamCopy } from '../../copy/stream.js';
import type {
  ApplyContext,
  CopyContext,
  CopyResult,
  HandlerFactory,
  HandlerTable,
} from '../../handler.js';
import { quoteFqname } from '../../table-names.js';
import type { TruncatingHandler } from '../londiste.js';
import { loadTableRules } from './map.js';
import { Obfuscator, type Rule, type RuleMap } from './rules.js';

export class ObfuscateHandler implements TruncatingHandler {
  readonly #table: string;
  readonly #dest: string;
  /** Null in an instance made without the tool's settings, only to be asked about the table. */
  readonly #rules: RuleMap | null;
  readonly #obfuscator: Obfuscator;
  readonly #applier: TableApplier;
  readonly #shapes = new ShapeCache();

  constructor(table: HandlerTable) {
    const file = table.config?.obfuscator_map;
    if (table.config !== undefined && (file === undefined || file.trim() === '')) {
      throw new SkytoolsError(
        'BAD_CONFIG',
        'the obfuscate handler needs obfuscator_map in the INI (the YAML file of its rules)',
        { table: table.tableName },
      );
    }
    this.#table = table.tableName;
    this.#dest = table.destTable;
    this.#rules = file === undefined ? null : loadTableRules(file, table.tableName);
    this.#obfuscator = new Obfuscator(table.config?.obfuscator_key ?? '');
    this.#applier = new TableApplier(table.tableName, table.destTable);
  }

  needsTable(): boolean {
    return true;
  }

  sourceRows(): boolean {
    return false;
  }

  #rule(column: string): Rule {
    if (this.#rules === null) {
      throw new SkytoolsError(
        'BAD_CONFIG',
        `the obfuscate handler of ${this.#table} was made without the tool's settings (obfuscator_map)`,
        { table: this.#table },
      );
    }
    return this.#rules[column] ?? 'skip';
  }

  /** A row's kept columns and their obfuscated values. */
  #rewrite(
    columns: readonly string[],
    values: readonly (string | null)[],
    where: string,
  ): { columns: string[]; values: (string | null)[] } {
    const out = { columns: [] as string[], values: [] as (string | null)[] };
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i] as string;
      const rule = this.#rule(column);
      if (rule === 'skip') continue;
      out.columns.push(column);
      out.values.push(
        this.#obfuscator.column(rule, values[i] ?? null, `${this.#table}.${column} (${where})`),
      );
    }
    return out;
  }

  processEvent(ctx: ApplyContext, event: Event): void | Promise<void> {
    if (isTruncateEvent(event.type)) return this.truncate(ctx);
    const type = event.type ?? '';
    const op = type[0];
    if (type[1] !== ':' || (op !== 'I' && op !== 'U' && op !== 'D')) {
      throw new SkytoolsError(
        'BAD_EVENT',
        `obfuscate handler of ${this.#table}: event ${event.id} (${type}) is not an urlencoded row; obfuscate takes the events of pgq.logutriga only`,
        { table: this.#table, eventId: event.id, type },
      );
    }
    const row = urldecode(event.data ?? '');
    const { columns, values } = this.#rewrite(
      [...row.keys()],
      [...row.values()],
      `event ${event.id}`,
    );
    const keys = type
      .slice(2)
      .split(',')
      .filter((k) => k !== '' && this.#rule(k) !== 'skip');
    const shape = this.#shapes.shape(
      `${keys.join(',')}\u0002${columns.join('\u0001')}`,
      false,
      () => ({
        columns,
        key: keys,
      }),
    );
    this.#applier.addChange(textRowChange(op, shape, values), event.id);
    if (this.#applier.full) return this.flush(ctx);
  }

  async flush(ctx: ApplyContext): Promise<void> {
    if (this.#applier.pending > 0) await this.#applier.flush(ctx.client);
  }

  truncate(ctx: ApplyContext): Promise<void> {
    return this.#applier.truncate(ctx.client);
  }

  discard(): void {
    this.#applier.discard();
  }

  copyCondition(): string | null {
    return null;
  }

  /** The source's rows as COPY text, each rewritten by the rules, into the destination. */
  async copy(ctx: CopyContext): Promise<CopyResult> {
    const relation = await describeRelation(ctx.source, this.#table, 'source');
    const stored = relation.columns.filter((c) => !c.generated).map((c) => c.name);
    const source = stored.filter((name) => this.#rule(name) !== 'skip');
    if (source.length === 0) {
      throw new SkytoolsError(
        'BAD_CONFIG',
        `copy of ${this.#table}: the obfuscator_map rules skip every column`,
        { table: this.#table },
      );
    }
    const only = relation.kind === 'p' ? '' : 'only ';
    let rest = '';
    let rowNumber = 0;
    const rewriteLine = (line: string) => {
      rowNumber++;
      const { values } = this.#rewrite(source, parseCopyLine(line), `copied row ${rowNumber}`);
      return `${values.map(copyField).join('\t')}\n`;
    };
    const decoder = new TextDecoder();
    const streamed = await streamCopy({
      source: ctx.source,
      dest: ctx.dest,
      copyOut: `copy (select ${source.map(quoteIdent).join(', ')} from ${only}${quoteFqname(
        this.#table,
      )}) to stdout`,
      copyIn: `copy ${quoteFqname(this.#dest)} (${source.map(quoteIdent).join(', ')}) from stdin`,
      binary: false,
      signal: ctx.signal,
      abortError: () =>
        new SkytoolsError('STOPPED', `copy of ${this.#table} aborted`, { table: this.#table }),
      transform: {
        // A newline byte only ends a row in COPY text (one in a value is written \n), and
        // the decoder keeps a character split between chunks for the next one.
        chunk: (data) => {
          const text = rest + decoder.decode(data, { stream: true });
          const lines = text.split('\n');
          rest = lines.pop() as string;
          let out = '';
          for (const line of lines) out += rewriteLine(line);
          return out;
        },
        end: () => {
          const tail = rest + decoder.decode();
          if (tail !== '') {
            throw new SkytoolsError(
              'DB_ERROR',
              `copy of ${this.#table}: the source's last row was cut`,
              {
                table: this.#table,
              },
            );
          }
        },
      },
    });
    return { rows: streamed.rows, bytes: streamed.bytes };
  }
}

export const obfuscateHandler: HandlerFactory = {
  name: 'obfuscate',
  description:
    'Obfuscation: columns kept, dropped or hashed by the rules of obfuscator_map.\n' +
    'Per table and column (YAML): keep, skip (the default), bool, hash (uuid text), hash32,\n' +
    'hash64 (signed integers), or a map of rules for the keys of a JSON column; hashes are\n' +
    'keyed BLAKE2s with obfuscator_key. Replay and copy alike.',
  args: [],
  create: (table) => new ObfuscateHandler(table),
};
