/** Domain types shared between the planner server, runners and edge functions. */

export type JobStatus = 'queued' | 'claimed' | 'running' | 'succeeded' | 'failed' | 'dead';

/** Task types are dotted names routed with glob rules, e.g. `build.web`, `test.unit`. */
export type TaskType = string;

export type ExecutorKind = 'server' | 'dev-pc' | 'edge' | 'gpu';

export interface Job {
  id: string;
  type: TaskType;
  status: JobStatus;
  payload: Record<string, unknown>;
  attempts: number;
  leaseOwner?: string;
  leaseExpiresAt?: number;
  createdAt: number;
}

export interface PlannedTask {
  type: TaskType;
  executor: ExecutorKind;
  dependsOn: string[];
  payload: Record<string, unknown>;
}

/** Persistence contract implemented by the queue backends. */
export interface JobStore {
  insert(job: Job): Promise<void>;
  claimNext(workerId: string, leaseSeconds: number): Promise<Job | null>;
  update(job: Job): Promise<void>;
  listByStatus(status: JobStatus): Promise<Job[]>;
}
