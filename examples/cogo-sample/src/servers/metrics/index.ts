/**
 * Metrics sidecar (port METRICS_PORT, default 3100): exposes `/metrics` in
 * Prometheus format plus `/healthz`, and receives runner reports on `/report`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { MetricsRegistry } from './registry.js';
import { loadConfig } from '@core/config';
import { computeQ1, type QualityMetrics } from '@core/quality';
import { createLogger } from '@shared';

const log = createLogger('metrics');

export function createMetricsRegistry(): MetricsRegistry {
  const registry = new MetricsRegistry();
  registry.register('cogo_jobs_total', 'Jobs processed by status', 'counter');
  registry.register('cogo_queue_depth', 'Queued jobs waiting for a runner', 'gauge');
  registry.register('cogo_q1_score', 'Latest Q1 quality score per repo', 'gauge');
  registry.register('cogo_job_duration_seconds', 'Job duration', 'histogram');
  return registry;
}

/** Apply one runner report: job outcome, duration and optional quality metrics. */
export function recordRunnerReport(registry: MetricsRegistry, report: { status: string; durationMs: number; repo?: string; quality?: QualityMetrics }): void {
  registry.inc('cogo_jobs_total', { status: report.status });
  registry.observe('cogo_job_duration_seconds', report.durationMs / 1000);
  if (report.quality && report.repo) {
    registry.set('cogo_q1_score', computeQ1(report.quality).score, { repo: report.repo });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

export function startMetricsServer(port = loadConfig().metricsPort) {
  const registry = createMetricsRegistry();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(registry.render());
    } else if (req.url === '/healthz') {
      res.writeHead(200).end('ok');
    } else if (req.url === '/report' && req.method === 'POST') {
      recordRunnerReport(registry, JSON.parse(await readBody(req)));
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port, () => log.info('metrics sidecar listening', { port }));
  return server;
}

startMetricsServer();
