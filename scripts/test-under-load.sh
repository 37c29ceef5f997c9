#!/usr/bin/env bash
# Runs the whole `npm test` N times in a row (default 5) in a clean clone of HEAD, while a second clean clone
# runs `npm test` in a loop beside it, so every run sees a loaded machine. Prints one line per run (exit
# code, seconds, load average, vitest's summary) and exits non-zero if any run failed. The loop beside stops
# after the run it is in when the last run ends (it is left to finish, so no test process is orphaned).
#
#   scripts/test-under-load.sh [N]
#
# Environment: KEEP=1 keeps the clones and logs (in a temporary directory, printed first).
set -euo pipefail

runs="${1:-5}"
repo="$(git rev-parse --show-toplevel)"
work="$(mktemp -d "${TMPDIR:-/tmp}/next-cacheback-under-load.XXXXXX")"
if [[ "${KEEP:-}" == "1" ]]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
export CI=true

for side in main load; do
  git clone -q "$repo" "$work/$side"
  (cd "$work/$side" && npm ci --no-audit --no-fund --loglevel=error > "$work/$side-npm-ci.log" 2>&1)
done
echo "clones of $(git -C "$repo" rev-parse --short HEAD) in $work; $runs runs with a second npm test looping beside them"

summary() { grep -E 'Tests ' "$1" | tail -1 | sed 's/\x1b\[[0-9;]*m//g; s/^ *//'; }

(
  cd "$work/load"
  i=0
  while [[ ! -f "$work/done" ]]; do
    i=$((i + 1))
    start=$(date +%s)
    rc=0
    npm test > "$work/load-$i.log" 2>&1 || rc=$?
    echo "  beside, run $i: exit $rc, $(($(date +%s) - start)) s, $(summary "$work/load-$i.log")"
  done
) &
beside=$!

failed=0
cd "$work/main"
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  rc=0
  npm test > "$work/main-$i.log" 2>&1 || rc=$?
  echo "run $i: exit $rc, $(($(date +%s) - start)) s, load $(cut -d' ' -f1-3 /proc/loadavg), $(summary "$work/main-$i.log")"
  if [[ $rc -ne 0 ]]; then
    failed=$((failed + 1))
    tail -n 60 "$work/main-$i.log" | sed 's/^/    /'
  fi
done
touch "$work/done"
wait "$beside" || true
echo "$((runs - failed)) of $runs runs passed"
[[ $failed -eq 0 ]]
