/**
 * Lazily loads job handlers by task family: `build.web` -> handlers/buildHandler.ts.
 * Handlers are imported on first use so runners only load what they execute.
 */
import type { Job } from '@shared';
import { HandlerNotFoundError } from '@core/errors';
import type { JobHandler } from './handlers/base.js';

export const KNOWN_FAMILIES = ['build', 'debug'] as const;

export class HandlerRegistry {
  private readonly cache = new Map<string, JobHandler>();

  /** Task family is the first segment of the dotted task type. */
  familyOf(taskType: string): string {
    return taskType.split('.')[0];
  }

  async resolve(job: Job): Promise<JobHandler> {
    const family = this.familyOf(job.type);
    const cached = this.cache.get(family);
    if (cached) return cached;
    const handler = await this.load(family);
    this.cache.set(family, handler);
    return handler;
  }

  private async load(type: string): Promise<JobHandler> {
    if (!(KNOWN_FAMILIES as readonly string[]).includes(type)) throw new HandlerNotFoundError(type);
    const mod = await import(`./handlers/${type}Handler`);
    const Ctor = mod.default as new () => JobHandler;
    return new Ctor();
  }
}
