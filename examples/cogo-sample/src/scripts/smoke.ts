/**
 * Smoke script for CPU profiling (`node --experimental-strip-types --cpu-prof`,
 * Node >= 22.6). Imports only leaf modules by relative `.ts` path, since Node
 * does not resolve tsconfig aliases. On Node 20 use `smoke/smoke.mjs` instead.
 */
import { computeQ1 } from '../core/quality.ts';
import { selectExecutor } from '../core/router.ts';
import { computeLeaseExpiry, isLeaseExpired, nextHeartbeatAt } from '../core/lease.ts';
import { backoffDelay } from '../shared/retry.ts';

const TASK_TYPES = ['build.web', 'test.unit', 'test.e2e.smoke', 'embed.docs', 'llm.plan', 'notify.slack', 'misc'];
const ITERATIONS = 5000;

function runSmoke(iterations: number): Record<string, number> {
  let passed = 0;
  let expired = 0;
  let totalDelay = 0;
  const executors: Record<string, number> = {};
  for (let i = 0; i < iterations; i++) {
    const q1 = computeQ1({ testsPassed: i % 50, testsTotal: 50, lintErrors: i % 7, typeErrors: i % 11 === 0 ? 1 : 0, coverage: (i % 100) / 100 });
    if (q1.passed) passed++;
    const exec = selectExecutor(TASK_TYPES[i % TASK_TYPES.length]);
    executors[exec] = (executors[exec] ?? 0) + 1;
    const now = 1_700_000_000_000 + i * 1000;
    const lease = { owner: 'runner-smoke', expiresAt: computeLeaseExpiry(now, 30) };
    nextHeartbeatAt(lease, now);
    if (isLeaseExpired(lease, now + (i % 60) * 1000)) expired++;
    totalDelay += backoffDelay((i % 6) + 1, { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5000, jitter: 0 });
  }
  return { passed, expired, totalDelay, ...executors };
}

const result = runSmoke(ITERATIONS);
console.log(JSON.stringify({ iterations: ITERATIONS, ...result }));
