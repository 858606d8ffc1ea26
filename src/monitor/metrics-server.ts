/**
 * `skytools metrics`: /metrics for the monitored databases, each scrape reading the servers
 * (no cache). `/` says where the metrics are, for a person who opens the address.
 */
import { type HttpEndpoint, type ListenAddress, serveHttp } from '../script/http-listen.js';
import { MonitorMetrics } from './metrics.js';
import type { Monitor } from './monitor.js';

export async function serveMonitorMetrics(
  monitor: Monitor,
  listen: ListenAddress,
  onError?: (error: unknown) => void,
): Promise<HttpEndpoint> {
  const metrics = new MonitorMetrics();
  return serveHttp(
    listen,
    async (url) => {
      if (url.pathname === '/metrics') {
        return { type: metrics.contentType, body: await metrics.render(await monitor.snapshot()) };
      }
      if (url.pathname === '/') {
        return {
          type: 'text/plain; charset=utf-8',
          body: `skytools metrics for ${monitor.databases.join(', ')}: see /metrics\n`,
        };
      }
      return null;
    },
    onError,
  );
}
