/**
 * Postgres-backed job queue. Runners claim work with `FOR UPDATE SKIP LOCKED`
 * so concurrent dev-PC runners never grab the same job, then keep the lease
 * alive with heartbeats until the job finishes.
 */
import { computeLeaseExpiry, isLeaseExpired, renewLease } from '@core/lease';
import { LeaseExpiredError } from '@core/errors';
import { createLogger, computeBackoff, type Job, type JobStore } from '@shared';

/** Claim query executed by the Postgres store (see supabase/sql/001_jobs.sql). */
export const CLAIM_SQL = `
  update jobs set status = 'claimed', lease_owner = $1, lease_expires_at = now() + ($2 || ' seconds')::interval
  where id = (
    select id from jobs
    where status = 'queued' and (run_after is null or run_after <= now())
    order by priority desc, created_at
    for update skip locked
    limit 1
  )
  returning *`;

export const MAX_ATTEMPTS = 5;

export class JobQueue {
  private readonly store: JobStore;
  private readonly leaseSeconds: number;
  private readonly log = createLogger('queue');

  constructor(store: JobStore, leaseSeconds = 60) {
    this.store = store;
    this.leaseSeconds = leaseSeconds;
  }

  async enqueue(job: Omit<Job, 'status' | 'attempts' | 'createdAt'>): Promise<Job> {
    const full: Job = { ...job, status: 'queued', attempts: 0, createdAt: Date.now() };
    await this.store.insert(full);
    this.log.info('job enqueued', { id: full.id, type: full.type });
    return full;
  }

  /** Claim the next queued job for `workerId` and stamp its lease expiry. */
  async claim(workerId: string): Promise<Job | null> {
    const job = await this.store.claimNext(workerId, this.leaseSeconds);
    if (!job) return null;
    job.leaseOwner = workerId;
    job.leaseExpiresAt = computeLeaseExpiry(Date.now(), this.leaseSeconds);
    job.attempts += 1;
    await this.store.update(job);
    return job;
  }

  /** Heartbeat from the runner that owns the job; throws if the lease was lost. */
  async heartbeat(job: Job, workerId: string): Promise<Job> {
    const lease = job.leaseOwner ? { owner: job.leaseOwner, expiresAt: job.leaseExpiresAt ?? 0 } : undefined;
    if (!lease || lease.owner !== workerId || isLeaseExpired(lease, Date.now())) {
      throw new LeaseExpiredError(job.id);
    }
    job.leaseExpiresAt = renewLease(lease, Date.now(), this.leaseSeconds).expiresAt;
    await this.store.update(job);
    return job;
  }

  async complete(job: Job): Promise<void> {
    job.status = 'succeeded';
    await this.store.update(job);
  }

  /** Mark a failed attempt: re-queue with exponential backoff or dead-letter it. */
  async fail(job: Job, reason: string): Promise<void> {
    if (job.attempts >= MAX_ATTEMPTS) {
      job.status = 'dead';
      this.log.error('job dead-lettered', { id: job.id, reason });
    } else {
      job.status = 'queued';
      job.payload = { ...job.payload, runAfter: Date.now() + computeBackoff(job.attempts) };
    }
    job.leaseOwner = undefined;
    await this.store.update(job);
  }

  /** Re-queue every claimed job whose lease expired (runner crashed or went offline). */
  async reapExpired(): Promise<number> {
    const claimed = await this.store.listByStatus('claimed');
    let reaped = 0;
    for (const job of claimed) {
      if (isLeaseExpired(job.leaseOwner ? { owner: job.leaseOwner, expiresAt: job.leaseExpiresAt ?? 0 } : undefined, Date.now())) {
        await this.fail(job, 'lease expired');
        reaped++;
      }
    }
    return reaped;
  }
}
