/**
 * A branch's copy of one provider batch, streamed: the provider's `COPY (batch query) TO
 * STDOUT` is piped into `COPY <current event table> FROM STDIN` on the branch, so the rows
 * never become JavaScript values and memory holds only the streams' buffers (bounded in
 * bytes by `highWaterMark`). ev_id, ev_time, ev_retry and the payload travel as the
 * provider's COPY text; the branch gives them its own txids, as its batches need.
 *
 * Cascade events in the stream are picked out on the way (a type field starting `pgq.`)
 * and applied after the COPY, in the same transaction and in their order.
 */

import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { parseCopyField } from '../pgq/copy-text.js';
import type { EventRow } from '../pgq/event.js';
import { batchEventSqlSql } from './cascade-sql.js';
import { CascadeError } from './node-calls.js';

const columns =
  'ev_id, ev_time, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4';

export interface Streamed {
  rows: number;
  /** The batch's cascade events, as EventRows (ev_txid unknown: null), in stream order. */
  cascade: EventRow[];
}

/** The batch's query as the provider builds it, without its ORDER BY (COPY needs none). */
export async function batchQuery(provider: pg.ClientBase, batchId: number, queue: string) {
  const { rows } = await provider.query<{ sql: string | null }>(batchEventSqlSql, [batchId]);
  const sql = rows[0]?.sql;
  if (typeof sql !== 'string') {
    throw new CascadeError('NO_BATCH_SQL', `no event query for batch ${batchId}`, { queue });
  }
  return sql.replace(/\norder by 1\s*$/, '');
}

export async function streamBatch(
  provider: pg.ClientBase,
  local: pg.ClientBase,
  batchId: number,
  table: string,
  options: { queue: string; highWaterMark: number },
): Promise<Streamed> {
  const sql = await batchQuery(provider, batchId, options.queue);
  const source = provider.query(copyTo(`copy (select ${columns} from (${sql}) b) to stdout`));
  const target = local.query(copyFrom(`copy ${table} (${columns}) from stdin`));
  const scanner = new CascadeScanner(options.highWaterMark);
  await pipeline(source, scanner, target);
  return { rows: target.rowCount, cascade: scanner.found };
}

/**
 * Passes the COPY text through unchanged, noting each row whose type starts with `pgq.`.
 * A literal tab only ever separates fields (COPY escapes tabs in values), so such a row
 * contains `\tpgq.`; only rows that do are split and looked at.
 */
class CascadeScanner extends Transform {
  readonly found: EventRow[] = [];
  // Chunks may end inside a UTF-8 character: decoded across them, for the scan only.
  readonly #decoder = new StringDecoder('utf8');
  #tail = '';

  constructor(highWaterMark: number) {
    super({ highWaterMark, decodeStrings: false });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const text = this.#tail + this.#decoder.write(chunk);
    const end = text.lastIndexOf('\n');
    this.#scan(text, end);
    this.#tail = text.slice(end + 1);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const rest = this.#tail + this.#decoder.end();
    if (rest !== '') this.#scan(`${rest}\n`, rest.length);
    done();
  }

  #scan(text: string, end: number): void {
    let at = text.indexOf('\tpgq.');
    while (at !== -1 && at < end) {
      const start = text.lastIndexOf('\n', at) + 1;
      const stop = text.indexOf('\n', at);
      const fields = text.slice(start, stop).split('\t');
      if (fields[3]?.startsWith('pgq.')) {
        const [id, time, retry, type, data, e1, e2, e3, e4] = fields.map(parseCopyField);
        this.found.push([
          id ?? null,
          time ?? null,
          null,
          retry ?? null,
          type ?? null,
          data ?? null,
          e1 ?? null,
          e2 ?? null,
          e3 ?? null,
          e4 ?? null,
        ]);
      }
      at = text.indexOf('\tpgq.', stop);
    }
  }
}
