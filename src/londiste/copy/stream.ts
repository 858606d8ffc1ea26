/**
 * One COPY from the source session into the destination session, as bytes: the source's
 * `COPY ... TO STDOUT` chunks are written to the destination's `COPY ... FROM STDIN` as they
 * come, so rows never become JavaScript values and memory holds only the streams' buffers.
 * Rows that pass unchanged are relayed as protocol messages, socket to socket (relay.ts);
 * rows a handler rewrites go through pg-copy-streams' node streams and the transform.
 * Backpressure runs both ways: a full destination pauses the source stream, which stops
 * reading its socket, which stops the source server; a slow source leaves the destination
 * idle. A rate limit pauses the source the same way.
 *
 * On any failure (either side's error, the AbortSignal) both COPYs are ended the way the
 * protocol allows, so both sessions can roll back: the destination's with CopyFail, the
 * source's with a cancel request and reading its stream to the end (a COPY TO cannot be
 * stopped from the client's side otherwise).
 */
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { cancelRunning } from './cancel.js';
import { relayCopy } from './relay.js';
import { binaryRowCounter, textRowCounter } from './row-counter.js';

export interface StreamCopyOptions {
  source: pg.Client;
  dest: pg.Client;
  /** `COPY ... TO STDOUT` on the source. */
  copyOut: string;
  /** `COPY ... FROM STDIN` on the destination, in the same format. */
  copyIn: string;
  binary: boolean;
  /** Rows per second at most; undefined = no limit. */
  rowsPerSecond?: number | undefined;
  signal?: AbortSignal | undefined;
  /** The error an abort rejects with. */
  abortError(): Error;
  /** Running totals after each chunk (the caller decides how often to report them). */
  onChunk?(rows: number, bytes: number): void;
  /**
   * Rewrites the rows on their way (text format): each source chunk in, what to write out;
   * `end` after the last chunk (throws when a partial row is left). Absent = bytes as they are.
   */
  transform?: { chunk(data: Buffer): Buffer | string; end(): void };
}

export interface Streamed {
  /** Rows the destination took (its COPY's count). */
  rows: number;
  bytes: number;
  /**
   * Rows the source sent, from its COPY's command tag: known once the source's next
   * statement has run (the tag comes after the stream's end).
   */
  sourceRows(): number;
}

export function streamCopy(options: StreamCopyOptions): Promise<Streamed> {
  if (options.transform === undefined) return relayed(options);
  return piped(options);
}

/** Bytes as they are: the protocol's messages relayed from socket to socket (relay.ts). */
async function relayed(options: StreamCopyOptions): Promise<Streamed> {
  const started = performance.now();
  const limit = options.rowsPerSecond;
  const done = await relayCopy({
    source: options.source,
    dest: options.dest,
    copyOut: options.copyOut,
    copyIn: options.copyIn,
    signal: options.signal,
    abortError: options.abortError,
    onChunk: options.onChunk,
    delayAfter:
      limit === undefined || limit <= 0
        ? undefined
        : (rows) => started + (rows / limit) * 1000 - performance.now(),
  });
  return { rows: done.destRows, bytes: done.bytes, sourceRows: () => done.sourceRows };
}

/** Rows rewritten on their way: both COPYs as node streams, the chunks through `transform`. */
function piped(options: StreamCopyOptions): Promise<Streamed> {
  const { source, dest, signal } = options;
  const counter = options.binary ? binaryRowCounter() : textRowCounter();
  const out = source.query(copyTo(options.copyOut));
  const into = dest.query(copyFrom(options.copyIn));
  const started = performance.now();
  let rows = 0;
  let bytes = 0;

  let outEnded = false;
  // The destination's COPY is over once it has closed or failed on its own (a server error
  // or a lost connection: pg-copy-streams then has no connection left to send CopyFail on).
  let intoDone = false;
  const outSettled = new Promise<void>((resolve) => {
    out.once('end', () => {
      outEnded = true;
      resolve();
    });
    out.once('close', () => {
      outEnded = true;
      resolve();
    });
    out.on('error', () => {
      outEnded = true;
      resolve();
    });
  });
  const intoSettled = new Promise<void>((resolve) => {
    into.once('close', () => {
      intoDone = true;
      resolve();
    });
  });

  return new Promise<Streamed>((resolve, reject) => {
    let failed = false;
    let waitingDrain = false;
    let throttle: NodeJS.Timeout | undefined;

    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      signal?.removeEventListener('abort', onAbort);
      if (throttle !== undefined) clearTimeout(throttle);
      const ends: Promise<void>[] = [];
      if (!outEnded) {
        // Read on (discarding) until the server's answer to the cancel ends the COPY.
        ends.push(cancelRunning(source).then(() => outSettled));
        out.resume();
      }
      if (!intoDone) {
        // The destination's failure has closed its COPY already; else CopyFail ends it.
        into.destroy(error instanceof Error ? error : new Error(String(error)));
        ends.push(intoSettled);
      }
      void Promise.all(ends).then(() => reject(error));
    };
    const onAbort = () => fail(options.abortError());
    signal?.addEventListener('abort', onAbort, { once: true });

    const resumeWhenReady = () => {
      if (failed || waitingDrain || throttle !== undefined) return;
      out.resume();
    };

    out.on('data', (chunk: Buffer) => {
      if (failed) return;
      let data: Buffer | string;
      try {
        bytes += chunk.length;
        rows += counter.count(chunk);
        options.onChunk?.(rows, bytes);
        data = options.transform === undefined ? chunk : options.transform.chunk(chunk);
      } catch (error) {
        fail(error);
        return;
      }
      if (!into.write(data)) {
        waitingDrain = true;
        out.pause();
        into.once('drain', () => {
          waitingDrain = false;
          resumeWhenReady();
        });
      }
      if (options.rowsPerSecond !== undefined && options.rowsPerSecond > 0) {
        const due = started + (rows / options.rowsPerSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 1) {
          out.pause();
          throttle = setTimeout(() => {
            throttle = undefined;
            resumeWhenReady();
          }, wait);
        }
      }
    });
    out.on('error', (error) => fail(error));
    out.once('end', () => {
      if (failed) return;
      try {
        options.transform?.end();
      } catch (error) {
        fail(error);
        return;
      }
      into.end();
    });
    into.on('error', (error) => {
      if (!failed) intoDone = true;
      fail(error);
    });
    into.once('finish', () => {
      if (failed) return;
      signal?.removeEventListener('abort', onAbort);
      resolve({ rows: into.rowCount, bytes, sourceRows: () => out.rowCount });
    });
  });
}
