/**
 * LocalConsumer's position file (upstream's `local_tracking_file`): the tick of the last batch
 * whose work is done, as one decimal number. Written through a temporary file renamed over it,
 * so a reader sees the old tick or the new one, never a part; a temporary file left by a killed
 * process is never read.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { SkytoolsError } from '../errors.js';
import { writeAtomic } from '../script/write-atomic.js';

export class TrackingFile {
  constructor(
    readonly file: string,
    private readonly context: Record<string, unknown> = {},
  ) {}

  /** The tick in the file, or null when there is no file. */
  read(): number | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw this.#error(
        `cannot read tracking file ${this.file}: ${(error as Error).message}`,
        error,
      );
    }
    const trimmed = text.trim();
    const tick = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(tick)) {
      throw this.#error(
        `${this.file} holds no tick id (${JSON.stringify(trimmed.slice(0, 40))}); fix it, or remove it (reset, --reset) to start from the queue's position`,
      );
    }
    return tick;
  }

  /** Replace the file's tick; flushed to disk before the rename, so power loss keeps one of them. */
  write(tick: number): void {
    try {
      writeAtomic(this.file, `${tick}\n`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw this.#error(
        code === 'ENOENT'
          ? `cannot write tracking file ${this.file}: its directory ${path.dirname(this.file)} does not exist (create it first)`
          : `cannot write tracking file ${this.file}: ${(error as Error).message}`,
        error,
      );
    }
  }

  /** Remove the file; true when there was one. */
  remove(): boolean {
    try {
      unlinkSync(this.file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw this.#error(
        `cannot remove tracking file ${this.file}: ${(error as Error).message}`,
        error,
      );
    }
  }

  #error(message: string, cause?: unknown): SkytoolsError {
    return new SkytoolsError(
      'BAD_TRACKING_FILE',
      message,
      { ...this.context, file: this.file },
      cause === undefined ? undefined : { cause },
    );
  }
}
