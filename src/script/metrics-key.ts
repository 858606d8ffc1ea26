/**
 * `metrics_port` (ours): where a long-running job serves its counters, `PORT` or
 * `HOST:PORT` (127.0.0.1 unless a host is given). Every job's settings read it here, so the
 * key means the same in pgqd, the consumer jobs and the cascade and Londiste workers.
 */
import type { Config } from '../config/index.js';
import { type ListenAddress, parseListen } from './http-listen.js';

export function loadMetricsListen(cf: Config): ListenAddress | undefined {
  const text = cf.get('metrics_port', '').trim();
  if (text === '') return undefined;
  try {
    const listen = parseListen(text, 'metrics_port');
    if (listen.port === 0) throw new Error('metrics_port must name a port, not 0');
    return listen;
  } catch (error) {
    throw cf.error('metrics_port', (error as Error).message);
  }
}
