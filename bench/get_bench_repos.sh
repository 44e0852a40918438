#!/usr/bin/env bash
# Code bases of bench/retrieval_suite.py under $COGO_BENCH_REPOS (default /tmp/cogo-bench):
# trpc/package, zod/package and rxjs/package from npm; umami, storage, ghostfolio, rallly, formbricks and payload are git checkouts
# of the public repositories named in their question files
# (bench/questions/{umami,storage,ghostfolio,rallly,formbricks,payload}.tsv) at the commit named there: give the
# clone source as UMAMI_GIT / STORAGE_GIT / GHOSTFOLIO_GIT / RALLLY_GIT / FORMBRICKS_GIT / PAYLOAD_GIT (a URL such as
# https://github.com/ghostfolio/ghostfolio, or a local mirror), else the script says what to put
# where. Idempotent; nothing is committed.
set -euo pipefail
dest="${COGO_BENCH_REPOS:-/tmp/cogo-bench}"
mkdir -p "$dest"
pack() {  # name npm-spec
  [ -d "$dest/$1/package" ] && return
  mkdir -p "$dest/$1" && (cd "$dest/$1" && npm pack --silent "$2" >/dev/null && tar xzf ./*.tgz)
}
clone() {  # name source questions-file
  [ -d "$dest/$1" ] && return
  commit="$(grep -o 'commit [0-9a-f]\{40\}' "$3" | head -1 | cut -d' ' -f2)"
  if [ -z "$2" ]; then
    echo "missing $dest/$1: check out $(grep -o 'root of [^ ]*' "$3" | head -1 | cut -d' ' -f3) at $commit there" >&2
    return
  fi
  git clone --quiet --no-checkout "$2" "$dest/$1"
  # a mirror may lack a few large blobs (payload's test videos): the checkout then says which, and the rest is there
  git -C "$dest/$1" checkout --quiet "$commit" || echo "warning: $1 checked out without the files named above" >&2
}
here="$(cd "$(dirname "$0")" && pwd)"
pack trpc @trpc/server@11.25.2
pack zod zod@4.6.7
pack rxjs rxjs@7.8.2
clone umami "${UMAMI_GIT:-}" "$here/questions/umami.tsv"
clone storage "${STORAGE_GIT:-}" "$here/questions/storage.tsv"
clone ghostfolio "${GHOSTFOLIO_GIT:-}" "$here/questions/ghostfolio.tsv"
clone rallly "${RALLLY_GIT:-}" "$here/questions/rallly.tsv"
clone formbricks "${FORMBRICKS_GIT:-}" "$here/questions/formbricks.tsv"
clone payload "${PAYLOAD_GIT:-}" "$here/questions/payload.tsv"
echo "$dest"
