import { describe, expect, it } from 'vitest';
import { computeQ1, lintComponent } from '../src/core/quality.ts';
import { isLeaseExpired } from '../src/core/lease.ts';
import { matchesTaskType, selectExecutor } from '../src/core/router.ts';

describe('lintComponent', () => {
  it('decays to about 0.37 at ten lint errors', () => {
    expect(lintComponent(10)).toBeCloseTo(0.368, 2);
  });
});

describe('computeQ1', () => {
  it('passes a clean run', () => {
    const r = computeQ1({ testsPassed: 10, testsTotal: 10, lintErrors: 0, typeErrors: 0, coverage: 0.9 });
    expect(r.passed).toBe(true);
  });
});

describe('router', () => {
  it('a single star matches one segment only', () => {
    expect(matchesTaskType('build.*', 'build.a.b')).toBe(false);
  });
  it('routes embeddings to the gpu', () => {
    expect(selectExecutor('embed.text')).toBe('gpu');
  });
});

describe('lease', () => {
  it('a fresh lease is not expired', () => {
    expect(isLeaseExpired({ owner: 'r1', expiresAt: 2_000 }, 1_000)).toBe(false);
  });
});
