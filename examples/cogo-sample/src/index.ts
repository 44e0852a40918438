/// <reference path="./types/global.d.ts" />
/**
 * cogo server entry: loads config, wires the job queue, optionally loads the
 * build plugin and starts a local dev runner when COGO_LOCAL_RUNNER=1.
 */
import { loadConfig } from '@core/config';
import { JobQueue } from '@queue/jobQueue';
import { InMemoryJobStore } from './queue/memoryStore.js';
import { DevRunner } from './runner/devRunner';
import { createLogger } from '@shared';

const log = createLogger('server');

export async function loadPlugins(enabled: boolean): Promise<string[]> {
  if (!enabled) return [];
  const { createBuildPlugin } = await import('./plugins/buildPlugin');
  const plugin = createBuildPlugin();
  return [plugin.name];
}

/** Boot the cogo server: config -> queue -> plugins -> (optional) local runner. */
export async function main(): Promise<void> {
  const config = loadConfig();
  const queue = new JobQueue(new InMemoryJobStore(), config.leaseSeconds);
  const plugins = await loadPlugins(true);
  log.info('cogo server started', { build: typeof __COGO_BUILD__ === 'string' ? __COGO_BUILD__ : 'dev', plugins });

  if ((globalThis as any).process?.env?.COGO_LOCAL_RUNNER === '1') {
    const runner = new DevRunner(queue, config);
    void runner.start();
  }
}

void main();
