/**
 * Live orchestrator: plans a goal on the server, enqueues the routed tasks,
 * and reaps expired leases from runners that went offline.
 * Usage: npm run orchestrate -- "ship feature X"
 */
import { planJobs, type Goal } from '@core/planner';
import { selectExecutor } from '@core/router';
import { buildGateFixReport, renderGateFixMarkdown } from '@core/gateFix';
import { JobQueue } from '@queue/jobQueue';
import { MetricsRegistry } from '@servers/metrics/registry';
import { InMemoryJobStore } from '../../queue/memoryStore.js';
import { createLogger, withRetry } from '@shared';
import { loadConfig } from '../../core/config';

const log = createLogger('orchestrator');

export const DEFAULT_STEPS = ['llm.plan', 'build.web', 'test.unit', 'test.e2e.smoke', 'embed.docs', 'notify.slack'];

/** Plan and enqueue one goal; returns the number of jobs created per executor. */
export async function orchestrate(queue: JobQueue, description: string): Promise<Record<string, number>> {
  const goal: Goal = { id: `goal-${Date.now().toString(36)}`, description, steps: DEFAULT_STEPS };
  const perExecutor: Record<string, number> = {};
  for (const [i, task] of planJobs(goal).entries()) {
    await withRetry(() => queue.enqueue({ id: `${goal.id}:${i}`, type: task.type, payload: task.payload }));
    perExecutor[task.executor] = (perExecutor[task.executor] ?? 0) + 1;
  }
  log.info('goal planned', { goal: goal.id, perExecutor, notifyOn: selectExecutor('notify.slack') });
  return perExecutor;
}

async function mainLive(): Promise<void> {
  const config = loadConfig();
  const queue = new JobQueue(new InMemoryJobStore(), config.leaseSeconds);
  const argv: string[] = (globalThis as any).process?.argv ?? [];
  await orchestrate(queue, argv[2] ?? 'nightly build and test');
  const reaped = await queue.reapExpired();
  const metrics = new MetricsRegistry();
  metrics.register('cogo_leases_reaped_total', 'Expired leases re-queued by the orchestrator', 'counter');
  metrics.inc('cogo_leases_reaped_total', {}, reaped);
  const report = buildGateFixReport('nightly', { testsPassed: 41, testsTotal: 45, lintErrors: 3, typeErrors: 0, coverage: 0.58 });
  log.info('orchestrator cycle done', { reaped, gate: renderGateFixMarkdown(report), metrics: metrics.render() });
}

void mainLive();
