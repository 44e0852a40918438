/**
 * Retry helpers with exponential backoff and jitter. Used when a runner
 * loses its lease, when Supabase returns 5xx and when a build step flakes.
 */
export interface RetryOptions {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** 0 = no jitter, 1 = full jitter */
  jitter: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
  jitter: 0.2,
};

/**
 * Exponential backoff delay for the given attempt (1-based):
 * `base * 2^(attempt-1)`, capped at `maxDelayMs`, with optional jitter.
 */
export function backoffDelay(attempt: number, opts: RetryOptions = DEFAULT_RETRY, rand: () => number = Math.random): number {
  const exp = opts.baseDelayMs * Math.pow(2, Math.max(0, attempt - 1));
  const capped = Math.min(exp, opts.maxDelayMs);
  const spread = capped * opts.jitter;
  return Math.round(capped - spread + rand() * spread * 2);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Run `fn` until it succeeds or `maxAttempts` is reached, sleeping with backoff between tries. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = DEFAULT_RETRY): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= opts.maxAttempts; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      lastError = err;
      if (attempt < opts.maxAttempts) {
        await sleep(backoffDelay(attempt, opts));
      }
    }
  }
  throw lastError;
}
