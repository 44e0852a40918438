import { test } from 'node:test';
import assert from 'node:assert/strict';
// planner first: it and gateFix import each other, and ESM evaluates the cycle from the first import
import '../src/core/planner.ts';
import { backoffDelay } from '../src/shared/retry.ts';
import { buildGateFixReport, collectFindings, renderGateFixMarkdown } from '../src/core/gateFix.ts';

const opts = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0 };

test('backoff is capped at maxDelayMs', () => {
  assert.equal(backoffDelay(20, opts, () => 0.5), 1_000);
});

test('findings list low coverage', () => {
  const findings = collectFindings({ testsPassed: 9, testsTotal: 10, lintErrors: 0, typeErrors: 0, coverage: 0.5 });
  assert.deepEqual(findings.map((f) => f.area), ['tests', 'coverage']);
});

test('gate report markdown names the run', () => {
  const report = buildGateFixReport('run-7', { testsPassed: 1, testsTotal: 10, lintErrors: 3, typeErrors: 1, coverage: 0.2 });
  assert.match(renderGateFixMarkdown(report), /## Gate report run-7/);
});
