// EXCLUDED (backups/**): stale copy of src/index.ts from before the queue rewrite.
import { loadConfig } from '../src/core/config';

export function legacyMainBackup(): void {
  const config = loadConfig();
  console.log('legacy backup entry', config.metricsPort);
}
