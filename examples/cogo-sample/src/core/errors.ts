/** Error hierarchy used by the queue, runners and the key vault. */
export class CogoError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable = false) {
    super(message);
    this.name = 'CogoError';
    this.code = code;
    this.retryable = retryable;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** Raised when a runner heartbeats a job whose lease already expired. */
export class LeaseExpiredError extends CogoError {
  readonly jobId: string;

  constructor(jobId: string) {
    super('LEASE_EXPIRED', `lease for job ${jobId} expired`, true);
    this.name = 'LeaseExpiredError';
    this.jobId = jobId;
  }
}

export class HandlerNotFoundError extends CogoError {
  constructor(taskType: string) {
    super('HANDLER_NOT_FOUND', `no handler registered for task type ${taskType}`);
    this.name = 'HandlerNotFoundError';
  }
}

export const isRetryable = (err: unknown): boolean => err instanceof CogoError && err.retryable;
