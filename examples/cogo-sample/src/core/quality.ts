/**
 * Q1 quality score: a weighted blend of test pass rate, lint cleanliness,
 * type-check success and coverage. A run passes the gate when Q1 >= 0.7.
 */
export const Q1_THRESHOLD = 0.7;

export const Q1_WEIGHTS = {
  tests: 0.4,
  lint: 0.2,
  typecheck: 0.25,
  coverage: 0.15,
} as const;

export interface QualityMetrics {
  testsPassed: number;
  testsTotal: number;
  lintErrors: number;
  typeErrors: number;
  /** line coverage, 0..1 */
  coverage: number;
}

export interface Q1Result {
  score: number;
  passed: boolean;
  components: Record<keyof typeof Q1_WEIGHTS, number>;
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/** Lint penalty decays with the number of errors: 0 errors -> 1, 10 errors -> ~0.37. */
export function lintComponent(lintErrors: number): number {
  return Math.exp(-lintErrors / 10);
}

/** Compute the Q1 quality score and whether it passes the 0.7 gate threshold. */
export function computeQ1(m: QualityMetrics, threshold: number = Q1_THRESHOLD): Q1Result {
  const components = {
    tests: m.testsTotal === 0 ? 0 : clamp01(m.testsPassed / m.testsTotal),
    lint: lintComponent(m.lintErrors),
    typecheck: m.typeErrors === 0 ? 1 : 0,
    coverage: clamp01(m.coverage),
  };
  let score = 0;
  for (const key of Object.keys(Q1_WEIGHTS) as Array<keyof typeof Q1_WEIGHTS>) {
    score += Q1_WEIGHTS[key] * components[key];
  }
  score = Math.round(score * 1000) / 1000;
  return { score, passed: score >= threshold, components };
}

export const passesQualityGate = (m: QualityMetrics): boolean => computeQ1(m).passed;
