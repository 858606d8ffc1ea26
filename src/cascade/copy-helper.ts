/**
 * The copy-helper mode of the cascaded worker: a process beside the node's worker (a
 * Londiste table copy catching up) that reads the same provider under its own consumer
 * name. Its position lives in the node's pgq_node.local_state as a cascaded consumer's does,
 * so it is applied exactly once with the tool's work; unlike the node's worker it applies no
 * cascade events, publishes no watermark, makes no tick and changes no node state.
 */
import type pg from 'pg';
import { setUptodateSql } from './cascade-sql.js';
import { CascadedConsumer } from './cascaded-consumer.js';
import { CascadeError, type ConsumerState, callRet, getConsumerState } from './node-calls.js';
import type { CascadedWorkerOptions } from './worker-options.js';

/** The helper's advisory lock: the one a cascaded consumer of that name takes. */
export function helperLock(queue: string, consumer: string) {
  return {
    key: [`pgq_node.consumer ${queue}`, consumer] as [string, string],
    refusal: (pid: number | undefined) =>
      new CascadeError(
        'CONSUMER_LOCKED',
        `copy helper ${JSON.stringify(consumer)} of queue ${JSON.stringify(queue)} already runs in another process${pid === undefined ? '' : ` (backend pid ${pid})`}; only one may run at a time`,
        { queue, consumer, pid },
      ),
  };
}

export class CopyHelper {
  readonly consumer: string;
  /** Where to register when not registered yet; undefined = the node's provider. */
  readonly provider: string | undefined;
  readonly #options: CascadedWorkerOptions;

  constructor(options: CascadedWorkerOptions, fail: (message: string) => never) {
    const helper = options.copyHelper;
    if (helper === null || typeof helper !== 'object') fail('option copyHelper must be an object');
    const { consumer, provider } = helper as { consumer: unknown; provider: unknown };
    if (typeof consumer !== 'string' || consumer === '') {
      fail('option copyHelper.consumer must be a non-empty string');
    }
    if (provider !== undefined && typeof provider !== 'string') {
      fail('option copyHelper.provider must be a connect string');
    }
    this.consumer = consumer as string;
    this.provider = provider as string | undefined;
    this.#options = options;
  }

  /**
   * The helper's state this loop, registering it first if the node does not know it; null
   * when it has nothing to read (paused, or the node is a root: no provider).
   */
  async state(local: pg.Client): Promise<ConsumerState | null> {
    const { queue } = this.#options;
    const context = { queue, consumer: this.consumer };
    let state = await this.#read(local);
    if (state === null) {
      await CascadedConsumer.register(this.#consumerOptions(), { provider: this.provider });
      state = await this.#read(local);
      if (state === null) {
        throw new CascadeError(
          'CONSUMER_NOT_REGISTERED',
          `copy helper ${JSON.stringify(this.consumer)} of queue ${JSON.stringify(queue)} is not known on the node after registering it`,
          context,
        );
      }
    }
    if (!state.uptodate) {
      await callRet(local, setUptodateSql, [queue, this.consumer], context);
      state = (await this.#read(local)) as ConsumerState;
    }
    if (state.paused || state.node_type === 'root') return null;
    return state;
  }

  /** Unregister from the provider the node names, then from the node. */
  async unregister(): Promise<void> {
    await CascadedConsumer.unregister(this.#consumerOptions());
  }

  async #read(local: pg.Client): Promise<ConsumerState | null> {
    try {
      return await getConsumerState(local, this.#options.queue, this.consumer);
    } catch (error) {
      if (error instanceof CascadeError && error.context.retCode === 404) return null;
      throw error;
    }
  }

  #consumerOptions() {
    const o = this.#options;
    return {
      connection: o.connection,
      queue: o.queue,
      consumer: this.consumer,
      extraConnstr: o.extraConnstr,
      applicationName: o.applicationName ?? `skytools copy helper ${this.consumer}`,
    };
  }
}
