/**
 * Optional build plugin loaded at startup with a dynamic import. It adds
 * monorepo-aware build steps when a `pnpm-workspace.yaml` is detected.
 */
import { createLogger } from '@shared';
import type { BuildStep } from '@queue/handlers/buildHandler';

export interface CogoPlugin {
  name: string;
  version: string;
  extraBuildSteps(workspace: string): BuildStep[];
}

const log = createLogger('plugin.build');

export const isMonorepo = (files: string[]): boolean =>
  files.includes('pnpm-workspace.yaml') || files.includes('turbo.json');

export function createBuildPlugin(files: string[] = []): CogoPlugin {
  return {
    name: 'monorepo-build',
    version: '1.2.0',
    extraBuildSteps(workspace: string): BuildStep[] {
      if (!isMonorepo(files)) return [];
      log.info('monorepo detected', { workspace });
      return [{ name: 'turbo-build', command: 'npx turbo run build --filter=...[HEAD^]' }];
    },
  };
}

export default createBuildPlugin;
