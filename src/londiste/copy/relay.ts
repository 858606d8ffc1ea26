/**
 * A COPY relayed between two sessions as the protocol's own messages. The source's
 * `COPY ... TO STDOUT` answers with one CopyData message per row, and the destination's
 * `COPY ... FROM STDIN` takes CopyData messages, framed the same way: so the bytes read from
 * the source's socket go to the destination's socket as they are, each socket read written
 * once, without a Buffer per row, without joining rows into new chunks, without walking the
 * fields to count them (a row is a message). At a million rows this is the difference
 * between the copy process taking about a core of its own and a few percent of one, on a
 * machine whose cores both servers need.
 *
 * For the time of the COPY the relay reads the source's socket itself, in place of pg's
 * parser (pg-copy-streams does the same); every message that is not CopyData goes to pg:
 * notices and parameter changes as they come, and from the end of the data on (CopyDone,
 * or an ErrorResponse) everything, so pg sees the command's completion or its error.
 *
 * Backpressure: a full destination socket pauses the source's socket, so the source server
 * waits; a rate limit pauses it the same way. On a failure (either side's error, a lost
 * connection, the AbortSignal) the destination's COPY is ended with CopyFail and the
 * source's with a cancel request, reading on and discarding until the server ends it, so
 * both sessions are left where ROLLBACK works.
 */
import type { Duplex } from 'node:stream';
import type pg from 'pg';
import { cancelRunning } from './cancel.js';

// The first byte of each protocol message.
const copyData = 0x64; // 'd'
const copyOutResponse = 0x48; // 'H'
const notice = 0x4e; // 'N'
const parameterStatus = 0x53; // 'S'
const notification = 0x41; // 'A'
const copyDoneMessage = Buffer.from([0x63, 0, 0, 0, 4]);

/** The part of pg's connection the relay uses (its socket, the simple query, CopyFail). */
interface WireConnection {
  stream: Duplex;
  query(text: string): void;
  sendCopyFail(message: string): void;
}

type DataListener = (chunk: Buffer) => void;

export interface RelayOptions {
  source: pg.Client;
  dest: pg.Client;
  /** `COPY ... TO STDOUT` on the source. */
  copyOut: string;
  /** `COPY ... FROM STDIN` on the destination, in the same format. */
  copyIn: string;
  /** After each socket read: CopyData messages (rows) and bytes relayed so far. */
  onChunk?(messages: number, bytes: number): void;
  /** Milliseconds to wait before reading on, after `messages` rows (a rate limit); 0 = none. */
  delayAfter?(messages: number): number;
  signal?: AbortSignal | undefined;
  /** The error an abort rejects with. */
  abortError(): Error;
}

export interface Relayed {
  /** Rows the destination took (its command tag). */
  destRows: number;
  /** Rows the source sent (its command tag). */
  sourceRows: number;
  /** CopyData messages relayed: a row each (COPY BINARY adds one for its trailer). */
  messages: number;
  bytes: number;
}

/** The command tag's count: `COPY 1000`. */
function copyCount(message: unknown): number {
  const match = /^COPY (\d+)/.exec((message as { text?: string } | undefined)?.text ?? '');
  return match ? Number(match[1]) : 0;
}

export function relayCopy(options: RelayOptions): Promise<Relayed> {
  return new Promise<Relayed>((resolve, reject) => {
    new CopyRelay(options, resolve, reject).start();
  });
}

class CopyRelay {
  #messages = 0;
  #bytes = 0;
  #destRows = 0;
  #sourceRows = 0;
  #failure: Error | undefined;
  // Each side: not started, in its COPY, or settled (its ReadyForQuery or its error).
  #destState: 'waiting' | 'copying' | 'settled' = 'waiting';
  #sourceState: 'waiting' | 'copying' | 'draining' | 'settled' = 'waiting';
  #destConnection: WireConnection | undefined;
  #sourceConnection: WireConnection | undefined;
  #pgListener: DataListener | undefined;
  #paused = { drain: false, throttle: undefined as NodeJS.Timeout | undefined };
  readonly #reader = new MessageReader();
  readonly #onData: DataListener = (chunk) => this.#read(chunk);
  readonly #onAbort = () => this.#fail(this.options.abortError());

  constructor(
    private readonly options: RelayOptions,
    private readonly resolve: (relayed: Relayed) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  start(): void {
    if (this.options.signal?.aborted) {
      this.reject(this.options.abortError());
      return;
    }
    this.options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    // The source starts once the destination takes data: nothing read waits in memory.
    this.options.dest.query({
      ...unexpectedAnswers((error) => this.#fail(error), 'destination'),
      submit: (connection) => {
        this.#destConnection = connection as unknown as WireConnection;
        this.#destConnection.query(this.options.copyIn);
      },
      handleCopyInResponse: () => this.#destReady(),
      handleCommandComplete: (message: unknown) => {
        this.#destRows = copyCount(message);
      },
      handleReadyForQuery: () => this.#settleDest(),
      handleError: (error: Error) => {
        // The failure first: settling may finish the relay.
        this.#fail(error, 'dest');
        this.#settleDest();
      },
    } as pg.Submittable);
  }

  #destReady(): void {
    if (this.#failure !== undefined) {
      this.#destConnection?.sendCopyFail(this.#failure.message);
      return;
    }
    this.#destState = 'copying';
    this.options.source.query({
      ...unexpectedAnswers((error) => this.#fail(error), 'source'),
      submit: (connection) => this.#attachSource(connection as unknown as WireConnection),
      handleCommandComplete: (message: unknown) => {
        this.#sourceRows = copyCount(message);
      },
      handleReadyForQuery: () => this.#settleSource(),
      handleError: (error: Error) => {
        // The failure first: settling may finish the relay.
        this.#fail(error, 'source');
        this.#settleSource();
      },
    } as pg.Submittable);
  }

  /** Read the source's socket in place of pg's parser until the data ends. */
  #attachSource(connection: WireConnection): Error | undefined {
    const listeners = connection.stream.listeners('data') as DataListener[];
    if (listeners.length !== 1) {
      return new Error(`cannot relay the COPY: the source socket has ${listeners.length} readers`);
    }
    this.#sourceConnection = connection;
    this.#pgListener = listeners[0];
    connection.stream.removeListener('data', this.#pgListener as DataListener);
    connection.stream.on('data', this.#onData);
    this.#sourceState = this.#failure === undefined ? 'copying' : 'draining';
    connection.query(this.options.copyOut);
    return undefined;
  }

  #read(chunk: Buffer): void {
    let read: ReadResult;
    try {
      read = this.#reader.read(chunk, (message) => this.#toPg(message));
    } catch (error) {
      // Past a broken frame nothing on this socket can be trusted: pg fails the session.
      this.#fail(error as Error);
      this.#sourceConnection?.stream.destroy(error as Error);
      return;
    }
    this.#messages += read.copyData;
    if (this.#sourceState === 'copying') {
      for (const run of read.runs) this.#write(run);
      // The rows' bytes, without the 5 bytes of each message's frame.
      this.#bytes += read.runBytes - 5 * read.copyData;
      this.options.onChunk?.(this.#messages, this.#bytes);
      // onChunk may have aborted the relay: then the source is read on without a pause.
      if (this.#sourceState === 'copying') this.#throttle();
    }
    if (read.rest !== undefined) this.#detachSource(read.rest);
  }

  #write(bytes: Buffer): void {
    const dest = this.#destConnection?.stream;
    if (dest === undefined || dest.write(bytes) || this.#paused.drain) return;
    this.#paused.drain = true;
    this.#sourceConnection?.stream.pause();
    dest.once('drain', () => {
      this.#paused.drain = false;
      this.#resumeSource();
    });
  }

  #throttle(): void {
    const wait = this.options.delayAfter?.(this.#messages) ?? 0;
    if (wait <= 1 || this.#paused.throttle !== undefined) return;
    this.#sourceConnection?.stream.pause();
    this.#paused.throttle = setTimeout(() => {
      this.#paused.throttle = undefined;
      this.#resumeSource();
    }, wait);
  }

  #resumeSource(): void {
    if (this.#paused.drain || this.#paused.throttle !== undefined) return;
    this.#sourceConnection?.stream.resume();
  }

  /** A whole message that is not CopyData, while the relay reads: pg's, or nobody's. */
  #toPg(message: Buffer): void {
    const code = message[0];
    if (code === notice || code === parameterStatus || code === notification) {
      this.#pgListener?.(message);
    }
  }

  /** The data has ended (CopyDone, or an error): pg reads the socket again, from `rest` on. */
  #detachSource(rest: Buffer): void {
    const connection = this.#sourceConnection as WireConnection;
    const pgListener = this.#pgListener as DataListener;
    connection.stream.removeListener('data', this.#onData);
    connection.stream.on('data', pgListener);
    if (this.#paused.throttle !== undefined) clearTimeout(this.#paused.throttle);
    this.#paused.throttle = undefined;
    this.#paused.drain = false;
    const relaying = this.#sourceState === 'copying';
    this.#sourceState = 'draining';
    // CopyDone first: the destination's command ends after the last row written.
    if (relaying && rest[0] === copyDoneMessage[0]) {
      this.#destConnection?.stream.write(copyDoneMessage);
    }
    pgListener(rest);
    connection.stream.resume();
  }

  #settleDest(): void {
    this.#destState = 'settled';
    this.#finishIfSettled();
  }

  #settleSource(): void {
    this.#sourceState = 'settled';
    this.#finishIfSettled();
  }

  #finishIfSettled(): void {
    const sourceSettled = this.#sourceState === 'settled' || this.#sourceState === 'waiting';
    if (this.#destState !== 'settled' || !sourceSettled) return;
    // The source waits for the destination; once the destination has settled it never starts.
    if (this.#sourceState === 'waiting' && this.#failure === undefined) return;
    this.options.signal?.removeEventListener('abort', this.#onAbort);
    if (this.#failure !== undefined) this.reject(this.#failure);
    else {
      this.resolve({
        destRows: this.#destRows,
        sourceRows: this.#sourceRows,
        messages: this.#messages,
        bytes: this.#bytes,
      });
    }
  }

  /** `settled`: the side whose error this is (its COPY is over already). */
  #fail(error: Error, settled?: 'dest' | 'source'): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    if (this.#destState === 'copying' && settled !== 'dest') {
      this.#destConnection?.sendCopyFail(error.message);
    }
    if (this.#sourceState === 'copying' && settled !== 'source') {
      // Read on, discarding, until the server's answer to the cancel ends the COPY.
      this.#sourceState = 'draining';
      void cancelRunning(this.options.source);
      this.#paused.drain = false;
      if (this.#paused.throttle !== undefined) clearTimeout(this.#paused.throttle);
      this.#paused.throttle = undefined;
      this.#sourceConnection?.stream.resume();
    }
    this.#finishIfSettled();
  }
}

/** Answers neither COPY should get: each fails the relay with a line that names it. */
function unexpectedAnswers(fail: (error: Error) => void, side: string) {
  const unexpected = (what: string) => () =>
    fail(new Error(`the ${side} answered the COPY with ${what}`));
  return {
    handleRowDescription: unexpected('a row description'),
    handleDataRow: unexpected('a row'),
    handleEmptyQuery: unexpected('an empty query response'),
    handlePortalSuspended: unexpected('a suspended portal'),
    handleCopyData: unexpected('COPY data'),
    handleCopyInResponse: unexpected('a request for COPY data'),
  };
}

interface ReadResult {
  /** Whole CopyData messages, in order (a message split between reads comes out whole). */
  runs: Buffer[];
  runBytes: number;
  /** CopyData messages that began in the chunk. */
  copyData: number;
  /** From the end of the data on (CopyDone, ErrorResponse, ...): for pg; else undefined. */
  rest: Buffer | undefined;
}

/**
 * Finds the message boundaries in a socket's chunks: a message is a code byte, an int32
 * length (itself included) and the rest; any of it may be split between chunks. Only whole
 * CopyData messages come out, so the destination is always at a message boundary, where a
 * CopyFail can follow; the start of a split one waits for its end (one row at most).
 */
export class MessageReader {
  #inMessage = false;
  #code = 0;
  #lengthLeft = 0;
  #length = 0;
  #bodyLeft = 0;
  // The parts of the message being read, from earlier chunks.
  #parts: Buffer[] = [];

  read(chunk: Buffer, onOther: (message: Buffer) => void): ReadResult {
    const runs: Buffer[] = [];
    let runBytes = 0;
    let copyDataCount = 0;
    const end = chunk.length;
    let pos = 0;
    // Where this chunk's run of whole CopyData messages begins (-1: none yet), and where the
    // message being read begins in it (0 when it began in an earlier chunk).
    let runStart = -1;
    let messageStart = 0;
    const closeRun = (at: number) => {
      if (runStart >= 0 && at > runStart) {
        runs.push(runStart === 0 && at === end ? chunk : chunk.subarray(runStart, at));
        runBytes += at - runStart;
      }
      runStart = -1;
    };
    while (pos < end) {
      if (!this.#inMessage) {
        const code = chunk[pos] as number;
        if (code !== copyData && !interspersed(code)) {
          closeRun(pos);
          return { runs, runBytes, copyData: copyDataCount, rest: chunk.subarray(pos) };
        }
        if (code === copyData) copyDataCount++;
        this.#code = code;
        this.#inMessage = true;
        this.#lengthLeft = 4;
        this.#length = 0;
        messageStart = pos;
        pos++;
      }
      if (this.#lengthLeft > 0) {
        if (this.#lengthLeft === 4 && pos + 4 <= end) {
          this.#length = chunk.readUInt32BE(pos);
          pos += 4;
          this.#lengthLeft = 0;
        } else {
          while (this.#lengthLeft > 0 && pos < end) {
            this.#length = this.#length * 256 + (chunk[pos] as number);
            pos++;
            this.#lengthLeft--;
          }
          if (this.#lengthLeft > 0) break;
        }
        if (this.#length < 4) {
          throw new Error(`bad message length ${this.#length} in the COPY data`);
        }
        this.#bodyLeft = this.#length - 4;
      }
      const take = Math.min(this.#bodyLeft, end - pos);
      pos += take;
      this.#bodyLeft -= take;
      if (this.#bodyLeft > 0) break;
      this.#inMessage = false;
      const parts = this.#parts;
      this.#parts = [];
      if (this.#code === copyData) {
        if (parts.length > 0) {
          // Its beginning, from earlier chunks, goes out before the rest of it.
          closeRun(0);
          for (const part of parts) {
            runs.push(part);
            runBytes += part.length;
          }
        }
        if (runStart < 0) runStart = messageStart;
      } else {
        closeRun(messageStart);
        parts.push(chunk.subarray(messageStart, pos));
        onOther(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
      }
    }
    if (this.#inMessage) {
      // The message goes on in the next chunk: what is here of it waits.
      closeRun(messageStart);
      if (messageStart < end) this.#parts.push(chunk.subarray(messageStart, end));
    } else closeRun(end);
    return { runs, runBytes, copyData: copyDataCount, rest: undefined };
  }
}

/** Messages the server may send in the middle of a COPY's data. */
function interspersed(code: number): boolean {
  return (
    code === copyOutResponse || code === notice || code === parameterStatus || code === notification
  );
}
