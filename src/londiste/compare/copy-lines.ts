/**
 * A `COPY (query) TO STDOUT` read as text lines, a chunk at a time: the rows never become
 * JavaScript objects (pg would build one per row), which is what makes streaming a whole
 * key range of (key, row hash) pairs cheap enough to beat reading the range twice.
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { cancelRunning } from '../copy/cancel.js';

export interface CopyLines {
  /** The next lines (without their newline), in the server's order; null at the end. */
  next(): Promise<string[] | null>;
  /**
   * Stop early (an error elsewhere): a COPY TO cannot be stopped from the client's side
   * except by a cancel request and reading on to its end, after which the session takes
   * statements again (its transaction aborted by the cancel).
   */
  stop(): Promise<void>;
}

const newline = 0x0a;

export function copyLines(db: pg.Client, sql: string): CopyLines {
  const stream = db.query(copyTo(sql));
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let rest: Buffer | null = null;
  let ended = false;
  return {
    async next() {
      for (;;) {
        if (ended) return null;
        let step: IteratorResult<Buffer>;
        try {
          step = await chunks.next();
        } catch (error) {
          // The server ended the COPY with an error: nothing left to stop.
          ended = true;
          throw error;
        }
        if (step.done === true) {
          ended = true;
          // COPY ends every row with a newline: a partial line means the stream was cut.
          if (rest !== null && rest.length > 0) throw new Error('COPY ended within a row');
          return null;
        }
        const chunk = step.value;
        const last = chunk.lastIndexOf(newline);
        if (last < 0) {
          rest = rest === null ? chunk : Buffer.concat([rest, chunk]);
          continue;
        }
        // A newline byte never occurs inside a multi-byte UTF-8 character: cutting there is safe.
        const whole = chunk.subarray(0, last);
        const text = (rest === null ? whole : Buffer.concat([rest, whole])).toString('utf8');
        rest = last + 1 < chunk.length ? Buffer.from(chunk.subarray(last + 1)) : null;
        return text.split('\n');
      }
    },
    async stop() {
      if (ended) return;
      ended = true;
      await cancelRunning(db);
      try {
        while ((await chunks.next()).done !== true) {
          // discarded: the cancel ends the stream soon
        }
      } catch {
        // The cancel's own error ("canceling statement due to user request") is the end
        // asked for; the caller reports the error that made it stop.
      }
    },
  };
}
