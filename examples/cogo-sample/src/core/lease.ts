/**
 * Job lease arithmetic. A runner that claims a job owns it until the lease
 * expires; it must heartbeat before `leaseExpiresAt` or the job is re-queued.
 */
export const DEFAULT_LEASE_SECONDS = 60;
export const HEARTBEAT_FRACTION = 0.5;

export interface Lease {
  owner: string;
  expiresAt: number;
}

/** Absolute expiry time (epoch ms) of a lease taken at `nowMs`. */
export function computeLeaseExpiry(nowMs: number, leaseSeconds: number = DEFAULT_LEASE_SECONDS): number {
  if (leaseSeconds <= 0) throw new RangeError('leaseSeconds must be positive');
  return nowMs + leaseSeconds * 1000;
}

/** When the owner should send its next heartbeat: halfway through the remaining lease. */
export function nextHeartbeatAt(lease: Lease, nowMs: number): number {
  const remaining = Math.max(0, lease.expiresAt - nowMs);
  return nowMs + Math.floor(remaining * HEARTBEAT_FRACTION);
}

export function isLeaseExpired(lease: Lease | undefined, nowMs: number, graceMs = 0): boolean {
  if (!lease) return true;
  return nowMs > lease.expiresAt + graceMs;
}

/** Extend a lease after a heartbeat; never shortens an existing lease. */
export function renewLease(lease: Lease, nowMs: number, leaseSeconds: number = DEFAULT_LEASE_SECONDS): Lease {
  const next = computeLeaseExpiry(nowMs, leaseSeconds);
  return { owner: lease.owner, expiresAt: Math.max(lease.expiresAt, next) };
}
