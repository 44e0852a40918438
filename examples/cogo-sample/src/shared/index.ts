// Barrel for @shared: consumers import from here, never from the leaf files.
export * from './logger';
export * from './types';
export { backoffDelay as computeBackoff, withRetry, sleep, DEFAULT_RETRY } from './retry';
export type { RetryOptions } from './retry';
