/** Handler contract for job types executed on dev-PC runners. */
import type { Job } from '@shared';
import { createLogger, type Logger } from '@shared';

export interface HandlerResult {
  ok: boolean;
  output: Record<string, unknown>;
  durationMs: number;
}

export interface JobHandler {
  readonly taskPrefix: string;
  canHandle(job: Job): boolean;
  run(job: Job): Promise<HandlerResult>;
}

/** Shared timing/logging for concrete handlers; subclasses implement `execute`. */
export abstract class BaseHandler implements JobHandler {
  abstract readonly taskPrefix: string;
  protected readonly log: Logger;

  constructor(name: string) {
    this.log = createLogger(`handler.${name}`);
  }

  canHandle(job: Job): boolean {
    return job.type.startsWith(this.taskPrefix + '.');
  }

  async run(job: Job): Promise<HandlerResult> {
    const started = Date.now();
    try {
      const output = await this.execute(job);
      return { ok: true, output, durationMs: Date.now() - started };
    } catch (err) {
      this.log.error('handler failed', { job: job.id, err: String(err) });
      return { ok: false, output: { error: String(err) }, durationMs: Date.now() - started };
    }
  }

  protected abstract execute(job: Job): Promise<Record<string, unknown>>;
}
