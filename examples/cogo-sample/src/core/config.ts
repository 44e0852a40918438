/**
 * Runtime configuration loaded from environment variables. Every service
 * (planner server, dev-PC runner, metrics sidecar) calls `loadConfig()` once
 * at startup and passes the frozen object down.
 */
import { type LogLevel, createLogger } from '@shared';
import { DEFAULT_LEASE_SECONDS } from './lease.js';

export interface CogoConfig {
  supabaseUrl: string;
  supabaseServiceKey: string;
  metricsPort: number;
  leaseSeconds: number;
  runnerId: string;
  logLevel: LogLevel;
  maxConcurrentJobs: number;
}

const log = createLogger('config');

function env(): Record<string, string | undefined> {
  return ((globalThis as any).process?.env ?? {}) as Record<string, string | undefined>;
}

/** Parse an integer env var, falling back to `fallback` when missing or invalid. */
export function readIntEnv(name: string, fallback: number): number {
  const raw = env()[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number.parseInt(raw, 10);
  if (Number.isNaN(n)) {
    log.warn('invalid integer env var, using fallback', { name, raw, fallback });
    return fallback;
  }
  return n;
}

export function requireEnv(name: string): string {
  const value = env()[name];
  if (!value) throw new Error(`missing required environment variable ${name}`);
  return value;
}

/** Load config from env: SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, METRICS_PORT (3100), LEASE_SECONDS ... */
export function loadConfig(overrides: Partial<CogoConfig> = {}): Readonly<CogoConfig> {
  const e = env();
  const config: CogoConfig = {
    supabaseUrl: e.SUPABASE_URL ?? 'http://localhost:54321',
    supabaseServiceKey: e.SUPABASE_SERVICE_ROLE_KEY ?? '',
    metricsPort: readIntEnv('METRICS_PORT', 3100),
    leaseSeconds: readIntEnv('LEASE_SECONDS', DEFAULT_LEASE_SECONDS),
    runnerId: e.COGO_RUNNER_ID ?? `runner-${Math.random().toString(36).slice(2, 8)}`,
    logLevel: (e.LOG_LEVEL as LogLevel) ?? 'info',
    maxConcurrentJobs: readIntEnv('MAX_CONCURRENT_JOBS', 2),
    ...overrides,
  };
  return Object.freeze(config);
}
