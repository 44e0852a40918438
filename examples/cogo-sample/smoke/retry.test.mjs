// node:test checks of the retry backoff (mirrors src/shared/retry.ts#backoffDelay in plain JS,
// since Node 20 cannot run .ts files).
//
// This test FAILS ON PURPOSE: it documents a real bug in backoffDelay, whose jitter is added after
// the cap, so a delay can exceed maxDelayMs by up to `jitter` (20 % with DEFAULT_RETRY). `make run`
// runs it as one of the sample's quality jobs so the Q1 gate fails and gate_fix has a real failure
// to explain. The fix: cap after the jitter, `Math.min(opts.maxDelayMs, ...)`.
// Run: node --test smoke/retry.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';

const DEFAULT_RETRY = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 30_000, jitter: 0.2 };

function backoffDelay(attempt, opts = DEFAULT_RETRY, rand = Math.random) {
  const exp = opts.baseDelayMs * Math.pow(2, Math.max(0, attempt - 1));
  const capped = Math.min(exp, opts.maxDelayMs);
  const spread = capped * opts.jitter;
  return Math.round(capped - spread + rand() * spread * 2);
}

test('backoffDelay doubles per attempt without jitter', () => {
  const opts = { ...DEFAULT_RETRY, jitter: 0 };
  assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelay(a, opts)), [250, 500, 1000, 2000]);
});

test('backoffDelay never exceeds maxDelayMs', () => {
  for (const attempt of [8, 10, 20]) {
    const delay = backoffDelay(attempt, DEFAULT_RETRY, () => 1);
    assert.ok(delay <= DEFAULT_RETRY.maxDelayMs, `backoffDelay(${attempt}) = ${delay} > maxDelayMs ${DEFAULT_RETRY.maxDelayMs}`);
  }
});
