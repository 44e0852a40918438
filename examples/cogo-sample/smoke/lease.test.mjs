// node:test checks of the lease arithmetic (mirrors src/core/lease.ts#computeLeaseExpiry,
// #isLeaseExpired and #renewLease in plain JS, since Node 20 cannot run .ts files).
// Run: node --test smoke/lease.test.mjs   (part of examples/sample-quality-plan.json; passes)
import { test } from 'node:test';
import assert from 'node:assert/strict';

const DEFAULT_LEASE_SECONDS = 60;

function computeLeaseExpiry(nowMs, leaseSeconds = DEFAULT_LEASE_SECONDS) {
  if (leaseSeconds <= 0) throw new RangeError('leaseSeconds must be positive');
  return nowMs + leaseSeconds * 1000;
}

function isLeaseExpired(lease, nowMs, graceMs = 0) {
  if (!lease) return true;
  return nowMs > lease.expiresAt + graceMs;
}

function renewLease(lease, nowMs, leaseSeconds = DEFAULT_LEASE_SECONDS) {
  const next = computeLeaseExpiry(nowMs, leaseSeconds);
  return { owner: lease.owner, expiresAt: Math.max(lease.expiresAt, next) };
}

test('computeLeaseExpiry adds the lease length', () => {
  assert.equal(computeLeaseExpiry(1_000, 30), 31_000);
  assert.throws(() => computeLeaseExpiry(0, 0), RangeError);
});

test('isLeaseExpired honours the grace period', () => {
  const lease = { owner: 'runner-a', expiresAt: 10_000 };
  assert.equal(isLeaseExpired(lease, 10_000), false);
  assert.equal(isLeaseExpired(lease, 10_500, 1_000), false);
  assert.equal(isLeaseExpired(lease, 11_001, 1_000), true);
  assert.equal(isLeaseExpired(undefined, 0), true);
});

test('renewLease never shortens a lease', () => {
  const lease = { owner: 'runner-a', expiresAt: 500_000 };
  assert.equal(renewLease(lease, 1_000, 60).expiresAt, 500_000);
  assert.equal(renewLease(lease, 480_000, 60).expiresAt, 540_000);
});
