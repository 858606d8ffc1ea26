/**
 * `skytools dashboard`: one read-only HTTP server (node:http) with one page, the snapshot
 * it polls as JSON, uPlot's files from node_modules, and /metrics. Each poll reads the
 * databases (shared by polls that come at once).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type HttpEndpoint, type ListenAddress, serveHttp } from '../../script/http-listen.js';
import { MonitorMetrics } from '../metrics.js';
import type { Monitor } from '../monitor.js';
import { dashboardPage } from './page.js';

const require = createRequire(import.meta.url);

/** The chart library's files, by the name the page asks for. */
const assets: Record<string, { file: string; type: string }> = {
  'uPlot.iife.min.js': {
    file: 'uplot/dist/uPlot.iife.min.js',
    type: 'text/javascript; charset=utf-8',
  },
  'uPlot.min.css': { file: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};

export interface DashboardOptions {
  /** The page's title (default: `skytools: ` and the databases). */
  title?: string;
  onError?: (error: unknown) => void;
}

export async function serveDashboard(
  monitor: Monitor,
  listen: ListenAddress,
  options: DashboardOptions = {},
): Promise<HttpEndpoint> {
  const page = dashboardPage(options.title ?? `skytools: ${monitor.databases.join(', ')}`);
  const metrics = new MonitorMetrics();
  const files = new Map<string, Buffer>();
  return serveHttp(
    listen,
    async (url) => {
      const path = url.pathname;
      if (path === '/' || path === '/index.html') {
        return { type: 'text/html; charset=utf-8', body: page };
      }
      if (path === '/api/snapshot') {
        return { type: 'application/json', body: JSON.stringify(await monitor.snapshot()) };
      }
      if (path === '/metrics') {
        return { type: metrics.contentType, body: await metrics.render(await monitor.snapshot()) };
      }
      const name = path.startsWith('/assets/') ? path.slice('/assets/'.length) : '';
      const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
      if (asset === undefined) return null;
      let body = files.get(asset.file);
      if (body === undefined) {
        body = await readFile(require.resolve(asset.file));
        files.set(asset.file, body);
      }
      return { type: asset.type, body };
    },
    options.onError,
  );
}
