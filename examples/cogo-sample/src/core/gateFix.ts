/**
 * Gate fix report: when a quality run fails the Q1 gate, build a report of
 * what to fix (ordered by severity) and the follow-up fix tasks to enqueue.
 */
import { computeQ1, Q1_THRESHOLD, type QualityMetrics } from './quality.js';
import { planFixTasks } from './planner.js';
import type { PlannedTask } from '@shared';

export enum GateSeverity {
  Blocker = 'blocker',
  Major = 'major',
  Minor = 'minor',
}

export interface GateFinding {
  severity: GateSeverity;
  area: 'tests' | 'lint' | 'typecheck' | 'coverage';
  message: string;
}

export interface GateFixReport {
  runId: string;
  score: number;
  threshold: number;
  passed: boolean;
  findings: GateFinding[];
  fixTasks: PlannedTask[];
}

/** Turn raw metrics into severity-ranked findings. */
export function collectFindings(m: QualityMetrics): GateFinding[] {
  const findings: GateFinding[] = [];
  if (m.typeErrors > 0) {
    findings.push({ severity: GateSeverity.Blocker, area: 'typecheck', message: `${m.typeErrors} type errors` });
  }
  const failing = m.testsTotal - m.testsPassed;
  if (failing > 0) {
    findings.push({ severity: GateSeverity.Major, area: 'tests', message: `${failing} of ${m.testsTotal} tests failing` });
  }
  if (m.lintErrors > 0) {
    findings.push({ severity: GateSeverity.Minor, area: 'lint', message: `${m.lintErrors} lint errors` });
  }
  if (m.coverage < 0.6) {
    findings.push({ severity: GateSeverity.Minor, area: 'coverage', message: `coverage ${(m.coverage * 100).toFixed(1)}% < 60%` });
  }
  return findings;
}

/** Build the gate fix report for a quality run (Q1 score, findings, fix tasks). */
export function buildGateFixReport(runId: string, m: QualityMetrics): GateFixReport {
  const q1 = computeQ1(m);
  const findings = collectFindings(m);
  return {
    runId,
    score: q1.score,
    threshold: Q1_THRESHOLD,
    passed: q1.passed,
    findings,
    fixTasks: q1.passed ? [] : planFixTasks(runId, findings),
  };
}

export function renderGateFixMarkdown(report: GateFixReport): string {
  const lines = [`## Gate report ${report.runId}`, `Q1 = ${report.score} (threshold ${report.threshold})`];
  for (const f of report.findings) lines.push(`- [${f.severity}] ${f.area}: ${f.message}`);
  return lines.join('\n');
}
