#!/usr/bin/env bash
# Container entry point: every role logs to stdout (docker logs) and, when LOG_TEE_FILE is set,
# also to that file in the mounted logs folder. A folder that is not writable (a bind mount created
# by the docker daemon as root) costs the file copy, never the service: a warning, then stdout only.
set -euo pipefail

can_write() { mkdir -p "$(dirname "$1")" 2>/dev/null && touch "$1" 2>/dev/null; }

# LOG_FILE is written by `cogo runner` itself; drop it rather than let the runner fail on it.
if [[ -n "${LOG_FILE:-}" ]] && ! can_write "$LOG_FILE"; then
  echo "entrypoint: warning: LOG_FILE=$LOG_FILE is not writable by uid $(id -u); logging to stdout only" >&2
  unset LOG_FILE
fi

if [[ -n "${LOG_TEE_FILE:-}" ]]; then
  if can_write "$LOG_TEE_FILE"; then
    exec > >(tee -a "$LOG_TEE_FILE") 2>&1
  else
    echo "entrypoint: warning: LOG_TEE_FILE=$LOG_TEE_FILE is not writable by uid $(id -u); logging to stdout only" >&2
  fi
fi

exec "$@"
