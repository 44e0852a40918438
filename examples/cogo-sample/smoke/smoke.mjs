// Plain-JS smoke workload for Node 20 (no --experimental-strip-types there).
// Self-contained: mirrors src/core/quality.ts#computeQ1, src/core/router.ts#selectExecutor,
// src/core/lease.ts#computeLeaseExpiry and src/shared/retry.ts#backoffDelay with the same
// function names, so a `node --cpu-prof smoke/smoke.mjs` profile names the same symbols.
// Run: node smoke/smoke.mjs   (or: node --cpu-prof --cpu-prof-dir=prof smoke/smoke.mjs)

const Q1_WEIGHTS = { tests: 0.4, lint: 0.2, typecheck: 0.25, coverage: 0.15 };
const Q1_THRESHOLD = 0.7;
const clamp01 = (x) => Math.min(1, Math.max(0, x));

function lintComponent(lintErrors) {
  return Math.exp(-lintErrors / 10);
}

function computeQ1(m, threshold = Q1_THRESHOLD) {
  const components = {
    tests: m.testsTotal === 0 ? 0 : clamp01(m.testsPassed / m.testsTotal),
    lint: lintComponent(m.lintErrors),
    typecheck: m.typeErrors === 0 ? 1 : 0,
    coverage: clamp01(m.coverage),
  };
  let score = 0;
  for (const key of Object.keys(Q1_WEIGHTS)) score += Q1_WEIGHTS[key] * components[key];
  score = Math.round(score * 1000) / 1000;
  return { score, passed: score >= threshold, components };
}

const DEFAULT_ROUTES = [
  { pattern: 'build.*', executor: 'dev-pc', priority: 10 },
  { pattern: 'test.**', executor: 'dev-pc', priority: 10 },
  { pattern: 'embed.*', executor: 'gpu', priority: 20 },
  { pattern: 'llm.plan', executor: 'server', priority: 30 },
  { pattern: 'notify.*', executor: 'edge', priority: 5 },
  { pattern: '**', executor: 'server', priority: 0 },
];

function globToRegExp(glob) {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') { out += '.*'; i++; }
    else if (c === '*') out += '[^.]*';
    else if ('\\^$+?()[]{}|.'.includes(c)) out += '\\' + c;
    else out += c;
  }
  return new RegExp('^' + out + '$');
}

function matchesTaskType(pattern, taskType) {
  return globToRegExp(pattern).test(taskType);
}

function selectExecutor(taskType, routes = DEFAULT_ROUTES) {
  let best;
  for (const rule of routes) {
    if (!matchesTaskType(rule.pattern, taskType)) continue;
    if (!best || rule.priority > best.priority) best = rule;
  }
  return best ? best.executor : 'server';
}

function computeLeaseExpiry(nowMs, leaseSeconds = 60) {
  if (leaseSeconds <= 0) throw new RangeError('leaseSeconds must be positive');
  return nowMs + leaseSeconds * 1000;
}

function isLeaseExpired(lease, nowMs, graceMs = 0) {
  return !lease || nowMs > lease.expiresAt + graceMs;
}

function backoffDelay(attempt, opts = { baseDelayMs: 250, maxDelayMs: 30000, jitter: 0 }, rand = Math.random) {
  const capped = Math.min(opts.baseDelayMs * Math.pow(2, Math.max(0, attempt - 1)), opts.maxDelayMs);
  const spread = capped * opts.jitter;
  return Math.round(capped - spread + rand() * spread * 2);
}

const TASK_TYPES = ['build.web', 'test.unit', 'test.e2e.smoke', 'embed.docs', 'llm.plan', 'notify.slack', 'misc'];

function runSmoke(iterations) {
  let passed = 0, expired = 0, totalDelay = 0;
  const executors = {};
  for (let i = 0; i < iterations; i++) {
    if (computeQ1({ testsPassed: i % 50, testsTotal: 50, lintErrors: i % 7, typeErrors: i % 11 === 0 ? 1 : 0, coverage: (i % 100) / 100 }).passed) passed++;
    const exec = selectExecutor(TASK_TYPES[i % TASK_TYPES.length]);
    executors[exec] = (executors[exec] ?? 0) + 1;
    const now = 1_700_000_000_000 + i * 1000;
    if (isLeaseExpired({ owner: 'runner-smoke', expiresAt: computeLeaseExpiry(now, 30) }, now + (i % 60) * 1000)) expired++;
    totalDelay += backoffDelay((i % 6) + 1, { baseDelayMs: 100, maxDelayMs: 5000, jitter: 0 });
  }
  return { passed, expired, totalDelay, ...executors };
}

const ITERATIONS = Number(process.argv[2] ?? 5000);
console.log(JSON.stringify({ iterations: ITERATIONS, ...runSmoke(ITERATIONS) }));
