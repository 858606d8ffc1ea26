/**
 * Where a data_maintainer run has got to (`position_file`, ours): the rows done and the last
 * key committed, written after every commit, removed when the run completes. A run that finds
 * the file resumes after that key (a query source) or after that many records (a CSV file).
 */
import { readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { SkytoolsError } from '../../errors.js';
import { writeAtomic } from '../../script/write-atomic.js';

export interface Position {
  /** Rows committed so far in this run. */
  rows: number;
  /** The last committed key's column values (query sources), in column order. */
  key: (string | null)[] | null;
}

export class PositionFile {
  constructor(readonly file: string) {}

  read(): Position | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw this.#error(
        `cannot read position_file ${this.file}: ${(error as Error).message}`,
        error,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    const p = parsed as Partial<Position> | null;
    if (
      p === null ||
      typeof p !== 'object' ||
      !Number.isSafeInteger(p.rows) ||
      (p.rows as number) < 0 ||
      !(p.key === null || Array.isArray(p.key))
    ) {
      throw this.#error(
        `${this.file} holds no data_maintainer position (${JSON.stringify(text.slice(0, 40))}); remove it to start the run from the beginning`,
      );
    }
    return { rows: p.rows as number, key: p.key ?? null };
  }

  write(position: Position): void {
    try {
      writeAtomic(this.file, `${JSON.stringify(position)}\n`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw this.#error(
        code === 'ENOENT'
          ? `cannot write position_file ${this.file}: its directory ${path.dirname(this.file)} does not exist (create it first)`
          : `cannot write position_file ${this.file}: ${(error as Error).message}`,
        error,
      );
    }
  }

  remove(): void {
    try {
      unlinkSync(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw this.#error(
        `cannot remove position_file ${this.file}: ${(error as Error).message}`,
        error,
      );
    }
  }

  #error(message: string, cause?: unknown): SkytoolsError {
    return new SkytoolsError(
      'BAD_TRACKING_FILE',
      message,
      { file: this.file },
      cause === undefined ? undefined : { cause },
    );
  }
}
