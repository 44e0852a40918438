/**
 * Server-side job planner: expands a goal into an ordered list of tasks and
 * routes each to an executor. Also plans follow-up fix tasks for failed gates.
 */
import type { PlannedTask, TaskType } from '../shared/types.js';
import { selectExecutor } from './router.js';
import { GateSeverity, type GateFinding } from './gateFix.js';

export interface Goal {
  id: string;
  description: string;
  steps: TaskType[];
}

const SEVERITY_TO_TASK: Record<GateSeverity, TaskType> = {
  [GateSeverity.Blocker]: 'build.typecheck',
  [GateSeverity.Major]: 'test.unit',
  [GateSeverity.Minor]: 'build.lint',
};

/** Expand a goal into a linear chain of planned tasks (each depends on the previous). */
export function planJobs(goal: Goal): PlannedTask[] {
  const tasks: PlannedTask[] = [];
  goal.steps.forEach((type, i) => {
    tasks.push({
      type,
      executor: selectExecutor(type),
      dependsOn: i === 0 ? [] : [`${goal.id}:${i - 1}`],
      payload: { goalId: goal.id, step: i, description: goal.description },
    });
  });
  return tasks;
}

/** One fix task per finding, blockers first. */
export function planFixTasks(runId: string, findings: GateFinding[]): PlannedTask[] {
  const order = [GateSeverity.Blocker, GateSeverity.Major, GateSeverity.Minor];
  return [...findings]
    .sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity))
    .map((f) => {
      const type = SEVERITY_TO_TASK[f.severity];
      return { type, executor: selectExecutor(type), dependsOn: [], payload: { runId, area: f.area, message: f.message } };
    });
}
