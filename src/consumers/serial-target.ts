/**
 * The target side of a job that copies batches into another database exactly once (upstream's
 * SerialConsumer, as queue_mover and queue_splitter use it): each batch goes in one target
 * transaction that also records its tick (pgq_ext.set_last_tick). The job finishes the source
 * batch only after that commit, so a crash between the two leaves a batch the target already
 * has: the next run sees its tick there and only finishes it.
 */
import type pg from 'pg';
import { openClient } from '../db/connect.js';
import { fromDatabaseError } from '../db/database-error.js';
import { SkytoolsError } from '../errors.js';
import { isSessionLost } from '../pgq/consumer-connection.js';
import { type Batch, serialTracking } from '../pgq/index.js';

export type SerialApply = 'applied' | 'skipped';

export class SerialTarget {
  #client: pg.Client | null = null;
  #broken = false;
  #openedAt = 0;
  readonly #tracking: ReturnType<typeof serialTracking>;

  constructor(
    private readonly connstr: string,
    private readonly applicationName: string,
    private readonly lifetimeSeconds: number,
    queue: string,
    consumer: string,
  ) {
    this.#tracking = serialTracking(queue, consumer);
  }

  /**
   * Run `work` for the batch in a target transaction with the tracking, unless the target has
   * the batch already (then its events are only read, so the source may finish it). `work`
   * must read the batch to its end. Database errors come back as our typed errors, `action`
   * saying what was being done.
   */
  async apply(
    batch: Batch,
    action: string,
    work: (target: pg.Client) => Promise<void>,
  ): Promise<SerialApply> {
    const target = await this.#connect();
    let open = false;
    try {
      await target.query('begin');
      open = true;
      if (!(await this.#tracking.shouldApply(target, batch.info))) {
        for await (const block of batch.blocks()) void block;
        await target.query('rollback');
        open = false;
        return 'skipped';
      }
      await work(target);
      if (!batch.fullyRead) {
        throw new SkytoolsError(
          'BATCH_NOT_READ',
          `batch ${batch.id} was not read to its end; nothing of it was committed in dst_db`,
          { batch: batch.id },
        );
      }
      await this.#tracking.markApplied(target, batch.info);
      await target.query('commit');
      open = false;
      return 'applied';
    } catch (error) {
      if (isSessionLost(error)) this.#broken = true;
      throw fromDatabaseError(error, { action: `${action} (batch ${batch.id}, dst_db)` });
    } finally {
      if (open && !this.#broken) await target.query('rollback').catch(() => {});
    }
  }

  /** Close the session if it is older than connection_lifetime. */
  async expire(): Promise<void> {
    if (this.#client === null) return;
    if (performance.now() - this.#openedAt >= this.lifetimeSeconds * 1000) await this.close();
  }

  /** The target session: opened on first use and after a failure, pgq_ext checked once. */
  async #connect(): Promise<pg.Client> {
    if (this.#client !== null && !this.#broken) return this.#client;
    await this.close();
    this.#broken = false;
    let opened: pg.Client | null = null;
    opened = await openClient(this.connstr, {
      applicationName: this.applicationName,
      purpose: 'dst_db',
      onBroken: () => {
        if (opened !== null && this.#client === opened) this.#broken = true;
      },
    });
    this.#client = opened;
    this.#openedAt = performance.now();
    try {
      await this.#tracking.check(opened);
    } catch (error) {
      await this.close();
      throw error;
    }
    return opened;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }
}
