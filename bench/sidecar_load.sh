#!/usr/bin/env bash
# Sidecar load: wrk against /metrics and /api/summary on loopback, at full speed and paced at
# ~200 rps, 20 s each, on its own embedded store seeded with 2,000 jobs and 60 gate runs.
# Prints rps and p99 per run.   Usage: bench/sidecar_load.sh   (needs wrk: apt-get install wrk)
# Env: DURATION (default 20s), CONNECTIONS (default 8), PORT (default a free one), ACCESS_LOG (1|0, default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-8}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }

WORK=$(mktemp -d /tmp/cogo-sidecar-load.XXXXXX)
export COGO_HOME=$WORK/home HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
unset DATABASE_URL
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [ -f "$COGO_HOME/pg/postmaster.pid" ] && kill "$(head -1 "$COGO_HOME/pg/postmaster.pid")" 2>/dev/null || true
  sleep 1; rm -rf "$WORK"
}
trap cleanup EXIT

# Seed through the same store code the sidecar uses (embedded PostgreSQL under $COGO_HOME/pg).
$PY - <<'PYEOF'
from cogo_pipelines.store import db
with db.session() as conn:
    conn.execute("""
        INSERT INTO jobs (type, executor_id, status, attempts, created_at, started_at, finished_at)
        SELECT (ARRAY['code.build.test','code.debug','plan.quality','quality.q1'])[1 + i % 4],
               (ARRAY['cogo-work','cogo-plan'])[1 + i % 2],
               (ARRAY['queued','running','succeeded','succeeded','failed','dead'])[1 + i % 6],
               i % 3, now() - make_interval(mins => i), now() - make_interval(mins => i),
               CASE WHEN i % 6 IN (2, 3, 4) THEN now() - make_interval(mins => i) + make_interval(secs => i % 300) END
        FROM generate_series(1, 2000) AS i""")
    conn.execute("""
        INSERT INTO quality_runs (score, threshold, passed, succeeded, failed, created_at)
        SELECT s, 0.7, s >= 0.7, (s * 100)::int, 100 - (s * 100)::int, now() - make_interval(hours => i)
        FROM (SELECT i, 0.5 + (i % 10) / 20.0 AS s FROM generate_series(1, 60) AS i) t""")
PYEOF

PORT=${PORT:-$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
LOG_FLAG=--access-log; [ "${ACCESS_LOG:-1}" = 0 ] && LOG_FLAG=--no-access-log
$PY -m cogo_pipelines.cli serve --port "$PORT" $LOG_FLAG >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
BASE=http://127.0.0.1:$PORT
for _ in $(seq 1 120); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fsS "$BASE/healthz" >/dev/null || { echo "sidecar did not start:" >&2; cat "$WORK/serve.log" >&2; exit 1; }
curl -fsS "$BASE/metrics" >/dev/null; curl -fsS "$BASE/api/summary" >/dev/null  # warm the pool and cache

# wrk's delay() hook: each connection waits 16 ms between requests -> 4 connections ~ 200 rps
# (plain Debian wrk has no fixed-rate mode).
PACE=$WORK/pace.lua
echo 'function delay() return 16 end' >"$PACE"

run() {  # label, path, wrk options...
  local label=$1 path=$2; shift 2
  local out; out=$(wrk --latency -d "$DURATION" "$@" "$BASE$path")
  local rps p99 errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")
  printf '%-34s rps=%-9s p99=%-9s %s\n' "$label $path" "$rps" "$p99" "$errors"
}

echo "sidecar load ($DURATION per run, loopback, $(nproc) CPUs, access log ${ACCESS_LOG:-1})"
run "full speed, ${CONNECTIONS} conns" /metrics -t 2 -c "$CONNECTIONS"
run "full speed, ${CONNECTIONS} conns" /api/summary -t 2 -c "$CONNECTIONS"
run "paced ~200 rps, 4 conns" /metrics -t 2 -c 4 -s "$PACE"
run "paced ~200 rps, 4 conns" /api/summary -t 2 -c 4 -s "$PACE"
