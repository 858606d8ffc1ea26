/**
 * Upstream's CascadedConsumer: a consumer whose position lives in its target node
 * (pgq_node.local_state) and whose source is whatever provider that node names, so it
 * follows change-provider and takeovers. Each batch is applied in one target transaction
 * together with set_consumer_completed (exactly-once in the target), then finished on the
 * provider; a crash in between is recognised by the ticks and the batch only finished.
 */
import type pg from 'pg';
import { BlockSize } from '../pgq/block-size.js';
import type { ConnectionSource } from '../pgq/consumer-connection.js';
import type { Event } from '../pgq/event.js';
import { childLogger, type Logger, silentLogger } from '../pgq/logger.js';
import { sleep, Wakeup } from '../pgq/wakeup.js';
import { type BatchStatsHook, reportBatch } from './batch-stats.js';
import { isCascadeEvent } from './cascade-events.js';
import { setCompletedSql, setUptodateSql } from './cascade-sql.js';
import { LocalNode } from './local-node.js';
import {
  CascadeError,
  type ConsumerState,
  callRet,
  getConsumerState,
  getNodeInfo,
} from './node-calls.js';
import { type ProviderBatchInfo, ProviderLink } from './provider-link.js';
import { recordError } from './record-error.js';
import { type ResolvedCascadeOptions, resolveCommon } from './worker-options.js';

export interface CascadedConsumerOptions {
  /** The target node's database (where the position is kept and the work goes). */
  connection: ConnectionSource;
  queue: string;
  /** Consumer name: on the provider's queue and in the target's pgq_node.local_state. */
  consumer: string;
  /** remote_extra_connstr: appended to the provider locations the node has registered. */
  extraConnstr?: string;
  /** Seconds between polls when idle (a NOTIFY from the provider wakes it earlier). Default 1. */
  loopDelay?: number;
  /** Events read from the provider per block at most. Default 5000. */
  batchMaxEvents?: number;
  /** About how many bytes of events a block holds at most. Default 8 MiB. */
  batchMaxBytes?: number;
  /** Seconds to wait after a failed loop before the next try. Default 5. */
  retryDelay?: number;
  logger?: Logger;
  applicationName?: string;
  /**
   * Called after each batch is committed in the target and finished on the provider: events
   * handed to the handler (`count`), `copied` always 0, and the seconds it took.
   */
  onBatch?: BatchStatsHook;
}

export interface CascadedBatch {
  id: number;
  /** The batch ends at this provider tick; the target's position moves to it. */
  tick: string;
  prevTick: string;
  tickTime: Date;
}

export interface CascadedHandlerContext {
  batch: CascadedBatch;
  /** The target node's client, inside the batch's transaction there. */
  target: pg.ClientBase;
  signal: AbortSignal | undefined;
}

/** Called for each event but the cascade's own (pgq.*), in order; a throw rolls back. */
export type CascadedEventHandler = (event: Event, context: CascadedHandlerContext) => unknown;

export class CascadedConsumer {
  readonly options: ResolvedCascadeOptions & { consumer: string };
  readonly log: Logger;
  readonly #local: LocalNode;
  /** For register/unregister: no lock, they may run beside a running consumer. */
  readonly #setup: LocalNode;
  readonly #provider: ProviderLink;
  readonly #wakeup = new Wakeup();
  readonly #sizes: BlockSize;
  #running = false;
  /** close() was called: failures of the loop in hand are its doing. */
  #closing = false;
  #saidIdle = false;
  /** The last loop found the target node a root. */
  #standby = false;

  constructor(options: CascadedConsumerOptions) {
    const { resolved } = resolveCommon(options, { consumer: options?.consumer });
    if (typeof options.consumer !== 'string') {
      throw new CascadeError('BAD_OPTION', 'option consumer must be a string', {
        queue: options.queue,
      });
    }
    const { queue, consumer } = { queue: resolved.queue, consumer: options.consumer };
    this.options = { ...resolved, consumer };
    this.log = childLogger(options.logger ?? silentLogger, { queue, consumer });
    const applicationName = resolved.applicationName ?? `skytools cascaded consumer ${consumer}`;
    this.#local = new LocalNode(resolved.connection, applicationName, {
      key: [`pgq_node.consumer ${queue}`, consumer],
      refusal: (pid) =>
        new CascadeError(
          'CONSUMER_LOCKED',
          `cascaded consumer ${JSON.stringify(consumer)} of queue ${JSON.stringify(queue)} already runs in another process${pid === undefined ? '' : ` (backend pid ${pid})`}; only one may run at a time`,
          { queue, consumer, pid },
        ),
    });
    this.#setup = new LocalNode(resolved.connection, applicationName, null);
    this.#provider = new ProviderLink(
      queue,
      { extraConnstr: resolved.extraConnstr, applicationName: `${applicationName} (provider)` },
      this.log,
      this.#wakeup,
    );
    this.#sizes = new BlockSize(resolved.batchMaxEvents, resolved.batchMaxBytes);
  }

  get queue(): string {
    return this.options.queue;
  }
  get consumer(): string {
    return this.options.consumer;
  }

  /**
   * Call `handler` for every event until `signal` aborts; the batch in hand is applied and
   * finished first. Failed loops (a handler that throws, a provider that does not answer)
   * are logged, stored in cur_error, and tried again after retryDelay with the same batch.
   */
  async run(handler: CascadedEventHandler, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (typeof handler !== 'function') {
      throw new CascadeError('BAD_OPTION', 'run() needs a handler function', {
        queue: this.queue,
        consumer: this.consumer,
      });
    }
    if (this.#running) {
      throw new CascadeError('ALREADY_RUNNING', 'this consumer object is already running', {
        queue: this.queue,
        consumer: this.consumer,
      });
    }
    this.#running = true;
    const signal = options.signal;
    try {
      while (!signal?.aborted) {
        let busy = false;
        try {
          busy = await this.runOnce(handler, { signal });
        } catch (error) {
          if (this.#closing) break; // closed under the loop: an immediate stop
          this.log.error({ err: error }, 'cascaded consumer loop failed; retrying');
          await sleep(this.options.retryDelayMs, signal);
          continue;
        }
        // On a root there is nothing to follow: look again less often, as upstream does.
        const idle = this.#standby ? 10 * this.options.loopDelayMs : this.options.loopDelayMs;
        if (!busy) await this.#wakeup.wait(idle, signal);
      }
    } finally {
      this.#running = false;
      await this.close();
    }
  }

  /** One loop; true when a batch was applied or finished. Failures are stored and rethrown. */
  async runOnce(handler: CascadedEventHandler, options: { signal?: AbortSignal } = {}) {
    this.#closing = false;
    try {
      return await this.#loop(handler, options.signal);
    } catch (error) {
      await this.#provider.close();
      // An error caused by close() (an immediate stop) is not the node's error.
      if (!this.#closing)
        await recordError(this.#local, this.queue, this.consumer, error, this.log);
      throw error;
    }
  }

  async #loop(handler: CascadedEventHandler, signal: AbortSignal | undefined): Promise<boolean> {
    const { queue, consumer } = this;
    const local = await this.#local.connect();
    this.#wakeup.clear();
    let state = await consumerState(local, queue, consumer);
    if (!state.uptodate) {
      // Acknowledged first, then read again: this loop never acts on an older state.
      await callRet(local, setUptodateSql, [queue, consumer], { queue, consumer });
      state = await consumerState(local, queue, consumer);
    }
    this.#standby = state.node_type === 'root';
    if (state.paused || this.#standby) {
      // On the root the queue is local and nothing cascades into it: stand by.
      if (!this.#saidIdle) this.log.info({ standby: 1, paused: state.paused }, 'idle');
      this.#saidIdle = true;
      await this.#provider.close();
      return false;
    }
    this.#saidIdle = false;
    await this.#provider.connect(state.provider_node, state.provider_location);
    const info = await this.#provider.nextBatch(consumer);
    if (info === null) {
      if (state.cur_error !== null) await recordError(this.#local, queue, consumer, null, this.log);
      return false;
    }
    await this.#apply(local, state, info, handler, signal);
    return true;
  }

  async #apply(
    local: pg.Client,
    state: ConsumerState,
    info: ProviderBatchInfo,
    handler: CascadedEventHandler,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { queue, consumer } = this;
    const context = { queue, consumer, node: state.node_name };
    const done = info.tick === state.completed_tick;
    if (!done && info.prevTick !== state.completed_tick) {
      throw new CascadeError(
        'LOST_POSITION',
        `Lost position: queue ${queue}, consumer ${consumer} is at tick ${state.completed_tick} on node ${state.node_name}, but its next batch ${info.id} on provider ${state.provider_node} goes from tick ${info.prevTick} to ${info.tick}`,
        {
          ...context,
          completedTick: state.completed_tick,
          prevTick: info.prevTick,
          tick: info.tick,
        },
      );
    }
    const started = performance.now();
    const report = (count: number) => {
      const duration = (performance.now() - started) / 1000;
      const stats = { batch: info.id, tick: info.tick, count, copied: 0, duration };
      reportBatch(this.options.onBatch, stats, this.log);
    };
    const batch = await this.#provider.openBatch(consumer, info, this.#sizes);
    if (done) {
      // Applied in the target before a crash that came before the provider heard of it.
      for await (const block of batch.blocks()) void block;
      await batch.finish();
      this.log.info({ batch: info.id, tick: info.tick }, 'batch applied before: finished only');
      report(0);
      return;
    }
    const ctx: CascadedHandlerContext = {
      batch: { id: info.id, tick: info.tick, prevTick: info.prevTick, tickTime: info.tickTime },
      target: local,
      signal,
    };
    let handled = 0;
    await local.query('begin');
    try {
      for await (const block of batch.blocks()) {
        for (const event of block) {
          if (isCascadeEvent(event.row)) continue;
          await handler(event, ctx);
          handled++;
        }
      }
      if (batch.retries.marks.size > 0) {
        throw new CascadeError(
          'RETRY_UNSUPPORTED',
          `batch ${info.id}: events cannot be retried by a cascaded consumer (the target applies a batch whole or not at all); the target work was rolled back`,
          { ...context, batch: info.id },
        );
      }
      await callRet(local, setCompletedSql, [queue, consumer, info.tick], context);
      await local.query('commit');
    } catch (error) {
      await local.query('rollback').catch(() => {});
      await batch.abandon();
      throw error;
    }
    await batch.finish();
    report(handled);
  }

  /**
   * Register `options.consumer` on the provider's queue (pgq.register_consumer), then in the
   * target node at the same tick (pgq_node.register_consumer). The provider is the target
   * node's own provider unless `provider` gives a location. Returns the starting tick.
   */
  static async register(
    options: CascadedConsumerOptions,
    register: { provider?: string } = {},
  ): Promise<string> {
    return new CascadedConsumer(options).#register(register.provider);
  }

  /** Unregister on the provider the target node names, then in the target node. */
  static async unregister(options: CascadedConsumerOptions): Promise<void> {
    return new CascadedConsumer(options).#unregister();
  }

  async #register(providerLocation: string | undefined): Promise<string> {
    const { queue, consumer } = this;
    try {
      const local = await this.#setup.connect();
      const node = await getNodeInfo(local, queue);
      const location = providerLocation ?? (node.provider_location as string);
      const provider = await this.#provider.connect(
        providerLocation === undefined ? (node.provider_node as string) : 'the given provider',
        location,
      );
      return await registerConsumerOn(local, provider, queue, consumer, node.node_name);
    } finally {
      await this.close();
    }
  }

  async #unregister(): Promise<void> {
    const { queue, consumer } = this;
    try {
      const local = await this.#setup.connect();
      const state = await consumerState(local, queue, consumer);
      const provider = await this.#provider.connect(state.provider_node, state.provider_location);
      await provider.query('select pgq.unregister_consumer($1, $2)', [queue, consumer]);
      await callRet(
        local,
        'select * from pgq_node.unregister_consumer($1, $2)',
        [queue, consumer],
        {
          queue,
          consumer,
        },
      );
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#provider.close();
    await this.#local.close();
    await this.#setup.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function consumerState(local: pg.Client, queue: string, consumer: string) {
  try {
    return await getConsumerState(local, queue, consumer);
  } catch (error) {
    if (error instanceof CascadeError && error.context.retCode === 404) {
      throw new CascadeError(
        'CONSUMER_NOT_REGISTERED',
        `cascaded consumer ${JSON.stringify(consumer)} of queue ${JSON.stringify(queue)} is not known on this node (${error.context.retNote}); register it first (CascadedConsumer.register)`,
        { queue, consumer },
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Register `consumer` on the provider at its current tick and record that position in the
 * local node, on sessions the caller has open (a copy checks the table on the same ones);
 * resolves with the tick.
 */
export async function registerConsumerOn(
  local: pg.ClientBase,
  provider: pg.ClientBase,
  queue: string,
  consumer: string,
  localNode?: string | null,
): Promise<string> {
  const providerNode = (await getNodeInfo(provider, queue)).node_name as string;
  await provider.query('select pgq.register_consumer($1, $2)', [queue, consumer]);
  const { rows } = await provider.query<{ last_tick: string }>(
    'select last_tick::text from pgq.get_consumer_info($1, $2)',
    [queue, consumer],
  );
  const tick = rows[0]?.last_tick as string;
  await callRet(
    local,
    'select * from pgq_node.register_consumer($1, $2, $3, $4)',
    [queue, consumer, providerNode, tick],
    { queue, consumer, node: localNode ?? undefined },
  );
  return tick;
}
