/**
 * Executor router: picks where a task runs (server, dev-PC runner, edge
 * function, GPU box) by matching its dotted task type against glob rules.
 * The first matching rule with the highest priority wins.
 */
import type { ExecutorKind, PlannedTask, TaskType } from '../shared/types.js';

export interface RouteRule {
  pattern: string;
  executor: ExecutorKind;
  priority: number;
}

export const DEFAULT_ROUTES: RouteRule[] = [
  { pattern: 'build.*', executor: 'dev-pc', priority: 10 },
  { pattern: 'test.**', executor: 'dev-pc', priority: 10 },
  { pattern: 'embed.*', executor: 'gpu', priority: 20 },
  { pattern: 'llm.plan', executor: 'server', priority: 30 },
  { pattern: 'notify.*', executor: 'edge', priority: 5 },
  { pattern: '**', executor: 'server', priority: 0 },
];

/** Translate a task-type glob (`*` = one segment, `**` = any segments) to a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') {
      out += '[^.]*';
    } else if ('\\^$+?()[]{}|.'.includes(c)) {
      out += '\\' + c;
    } else {
      out += c;
    }
  }
  return new RegExp('^' + out + '$');
}

export function matchesTaskType(pattern: string, taskType: TaskType): boolean {
  return globToRegExp(pattern).test(taskType);
}

/** Select the executor for a task type; falls back to the server. */
export function selectExecutor(taskType: TaskType, routes: RouteRule[] = DEFAULT_ROUTES): ExecutorKind {
  let best: RouteRule | undefined;
  for (const rule of routes) {
    if (!matchesTaskType(rule.pattern, taskType)) continue;
    if (!best || rule.priority > best.priority) best = rule;
  }
  return best ? best.executor : 'server';
}

export const routeTask = (task: Omit<PlannedTask, 'executor'>): PlannedTask => ({
  ...task,
  executor: selectExecutor(task.type),
});
