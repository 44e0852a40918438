/**
 * Dev-PC runner: polls the queue, claims a job, keeps its lease alive with
 * heartbeats while the handler builds/tests, then reports success or failure.
 */
import { JobQueue } from '../queue/jobQueue.js';
import { HandlerRegistry } from '@queue/handlerRegistry';
import { nextHeartbeatAt } from '@core/lease';
import { isRetryable } from '@core/errors';
import { createLogger, sleep, type Job } from '@shared';
import type { CogoConfig } from '@core/config';

export interface RunnerStats {
  claimed: number;
  succeeded: number;
  failed: number;
}

export class DevRunner {
  private readonly queue: JobQueue;
  private readonly registry = new HandlerRegistry();
  private readonly config: CogoConfig;
  private readonly log = createLogger('runner');
  private running = false;
  readonly stats: RunnerStats = { claimed: 0, succeeded: 0, failed: 0 };

  constructor(queue: JobQueue, config: CogoConfig) {
    this.queue = queue;
    this.config = config;
  }

  async start(pollIntervalMs = 2000): Promise<void> {
    this.running = true;
    while (this.running) {
      const worked = await this.tick();
      if (!worked) await sleep(pollIntervalMs);
    }
  }

  stop(): void {
    this.running = false;
  }

  /** One poll cycle; returns true when a job was processed. */
  async tick(): Promise<boolean> {
    const job = await this.queue.claim(this.config.runnerId);
    if (!job) return false;
    this.stats.claimed++;
    await this.execute(job);
    return true;
  }

  private async execute(job: Job): Promise<void> {
    const timer = this.scheduleHeartbeat(job);
    try {
      const handler = await this.registry.resolve(job);
      const result = await handler.run(job);
      if (result.ok) {
        await this.queue.complete(job);
        this.stats.succeeded++;
      } else {
        await this.queue.fail(job, String(result.output.error));
        this.stats.failed++;
      }
    } catch (err) {
      this.log.error('job crashed', { id: job.id, retryable: isRetryable(err) });
      await this.queue.fail(job, String(err));
      this.stats.failed++;
    } finally {
      clearTimeout(timer);
    }
  }

  private scheduleHeartbeat(job: Job): ReturnType<typeof setTimeout> {
    const lease = { owner: this.config.runnerId, expiresAt: job.leaseExpiresAt ?? Date.now() };
    const delay = nextHeartbeatAt(lease, Date.now()) - Date.now();
    return setTimeout(() => void this.queue.heartbeat(job, this.config.runnerId), delay);
  }
}
