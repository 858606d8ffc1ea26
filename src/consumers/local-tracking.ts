/**
 * upstream LocalConsumer's position file (`local_tracking_file`): the tick of the last batch
 * whose work is done on the target, written atomically after the work and before the batch is
 * finished on the queue. A crash between the two leaves file and queue one batch apart; the
 * file wins, so finished work is never done twice by position mix-ups.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { parseConnString } from '../db/connstring.js';
import { SkytoolsError } from '../errors.js';

export class TrackingFile {
  constructor(readonly file: string) {}

  /** The tick in the file, or null when there is no file. */
  read(): number | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw this.#error(`cannot read ${this.file}: ${(error as Error).message}`);
    }
    const tick = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(tick)) {
      throw this.#error(
        `${this.file} holds no tick id (${JSON.stringify(text.trim().slice(0, 40))}); fix it or remove it with --reset`,
      );
    }
    return tick;
  }

  write(tick: number): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, `${tick}\n`);
      renameSync(temp, this.file);
    } catch (error) {
      throw this.#error(
        `cannot write ${this.file} (its directory must exist): ${(error as Error).message}`,
      );
    }
  }

  /** Remove the file (`--reset`); true when there was one. */
  remove(): boolean {
    try {
      unlinkSync(this.file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw this.#error(`cannot remove ${this.file}: ${(error as Error).message}`);
    }
  }

  #error(message: string): SkytoolsError {
    return new SkytoolsError('BAD_TRACKING_FILE', message, { file: this.file });
  }
}

export type SyncResult =
  | { action: 'none'; tick: number }
  | { action: 'created'; tick: number }
  | { action: 'repositioned'; from: number; tick: number }
  | { action: 'not-registered' };

/**
 * Make the queue position agree with the file: no file → write the queue's position into it;
 * a different tick → move the subscription to the file's tick (pgq.register_consumer_at).
 */
export async function syncPosition(
  connstr: string,
  queue: string,
  consumer: string,
  tracking: TrackingFile,
  applicationName: string,
): Promise<SyncResult> {
  const client = new pg.Client({ ...parseConnString(connstr), application_name: applicationName });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ last_tick: string }>(
      'select last_tick from pgq.get_consumer_info($1, $2)',
      [queue, consumer],
    );
    const row = rows[0];
    // The consumer itself then says precisely what is missing (queue or registration).
    if (row === undefined) return { action: 'not-registered' };
    const queueTick = Number(row.last_tick);
    const fileTick = tracking.read();
    if (fileTick === null) {
      tracking.write(queueTick);
      return { action: 'created', tick: queueTick };
    }
    if (fileTick === queueTick) return { action: 'none', tick: fileTick };
    try {
      await client.query('select pgq.register_consumer_at($1, $2, $3)', [
        queue,
        consumer,
        fileTick,
      ]);
    } catch (error) {
      throw new SkytoolsError(
        'LOST_POSITION',
        `cannot move consumer ${JSON.stringify(consumer)} on queue ${JSON.stringify(queue)} to tick ${fileTick} of ${tracking.file}: ${(error as Error).message}`,
        { queue, consumer, tick: fileTick },
        { cause: error },
      );
    }
    return { action: 'repositioned', from: queueTick, tick: fileTick };
  } finally {
    await client.end().catch(() => {});
  }
}
