/**
 * The state file of `compare --resume` / `repair --resume`: per table the range bounds of
 * the run and the ranges found equal so far with their results. A run with --resume (or
 * --state-file) writes it after each range (a new file renamed over the old, so an
 * interrupted write leaves the previous one) and removes it when every table is done; the
 * next run with --resume reuses the bounds and skips the finished ranges. Without either
 * switch nothing is written (compare may run where it cannot write). Ranges found equal stay equal in the resumed run's totals: a change made
 * to them since shows only in a later full run.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { SkytoolsError } from '../../errors.js';
import type { RangeResult } from './ranges.js';
import type { KeyValue } from './table-key.js';

export interface TableProgress {
  source: string;
  checksum: string;
  bounds: KeyValue[];
  /** Range index → result, for ranges found equal. */
  done: Record<string, RangeResult>;
}

interface StateData {
  queue: string;
  tables: Record<string, TableProgress>;
}

export class CompareState {
  /** null: nothing kept (neither --resume nor --state-file). */
  readonly #path: string | null;
  readonly #data: StateData;

  private constructor(path: string | null, data: StateData) {
    this.#path = path;
    this.#data = data;
  }

  /**
   * With `resume`, the state in the file (fresh when there is none); else a fresh one, kept
   * in the file only when `keep`.
   */
  static open(path: string, queue: string, resume: boolean, keep: boolean): CompareState {
    if (!resume) return new CompareState(keep ? path : null, { queue, tables: {} });
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return new CompareState(path, { queue, tables: {} });
      }
      throw new SkytoolsError('STATE_FILE', `cannot read ${path}: ${(error as Error).message}`, {
        path,
      });
    }
    let data: StateData;
    try {
      data = JSON.parse(text) as StateData;
    } catch (error) {
      throw new SkytoolsError(
        'STATE_FILE',
        `${path} is not a compare state file`,
        { path },
        {
          cause: error,
        },
      );
    }
    if (data.queue !== queue || typeof data.tables !== 'object') {
      throw new SkytoolsError(
        'STATE_FILE',
        `${path} belongs to queue ${String(data.queue)}, not ${queue}`,
        { path },
      );
    }
    return new CompareState(path, data);
  }

  /** What an earlier run left for the table, if it compared it the same way. */
  table(name: string, source: string, checksum: string): TableProgress | undefined {
    const t = this.#data.tables[name];
    if (t === undefined || t.source !== source || t.checksum !== checksum) return undefined;
    return t;
  }

  start(name: string, progress: TableProgress): void {
    this.#data.tables[name] = progress;
    this.#write();
  }

  rangeDone(name: string, index: number, result: RangeResult): void {
    const t = this.#data.tables[name];
    if (t === undefined) return;
    t.done[String(index)] = result;
    this.#write();
  }

  /** Every table is done: nothing to resume. */
  finish(): void {
    if (this.#path !== null) rmSync(this.#path, { force: true });
  }

  #write(): void {
    if (this.#path === null) return;
    const temp = `${this.#path}.new`;
    writeFileSync(temp, `${JSON.stringify(this.#data)}\n`);
    renameSync(temp, this.#path);
  }
}
