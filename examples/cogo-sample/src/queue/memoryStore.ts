/** In-memory JobStore used by tests, the smoke script and local dry runs. */
import type { Job, JobStatus, JobStore } from '@shared';

export class InMemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, Job>();

  async insert(job: Job): Promise<void> {
    if (this.jobs.has(job.id)) throw new Error(`duplicate job id ${job.id}`);
    this.jobs.set(job.id, { ...job });
  }

  /** Emulates `for update skip locked`: picks the oldest queued job and marks it claimed. */
  async claimNext(workerId: string, _leaseSeconds: number): Promise<Job | null> {
    const next = this.oldest('queued');
    if (!next) return null;
    next.status = 'claimed';
    next.leaseOwner = workerId;
    return { ...next };
  }

  async update(job: Job): Promise<void> {
    this.jobs.set(job.id, { ...job });
  }

  async listByStatus(status: JobStatus): Promise<Job[]> {
    return [...this.jobs.values()].filter((j) => j.status === status);
  }

  size(): number {
    return this.jobs.size;
  }

  private oldest(status: JobStatus): Job | undefined {
    let found: Job | undefined;
    for (const job of this.jobs.values()) {
      if (job.status === status && (!found || job.createdAt < found.createdAt)) found = job;
    }
    return found;
  }
}
