import { computeLeaseExpiry, renewLease } from '../src/core/lease';
import { planJobs } from '../src/core/planner';
import { withRetry } from '../src/shared/retry';

describe('lease arithmetic', () => {
  test('expiry is seconds after now', () => {
    expect(computeLeaseExpiry(1_000, 60)).toBe(61_000);
  });
  test('renewing never shortens a lease', () => {
    const lease = { owner: 'r1', expiresAt: 500_000 };
    expect(renewLease(lease, 1_000, 60).expiresAt).toBe(500_000);
  });
});

describe('planner', () => {
  test('each step depends on the previous one', () => {
    const tasks = planJobs({ id: 'g1', description: 'ship', steps: ['build.compile', 'test.unit', 'notify.slack'] });
    expect(tasks.map((t) => t.dependsOn)).toEqual([[], ['g1:0'], ['g1:1']]);
  });
});

describe('retry', () => {
  test('gives up after maxAttempts', async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw new Error('flaky'); },
      { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, jitter: 0 })).rejects.toThrow('flaky');
    expect(calls).toBe(3);
  });
});
