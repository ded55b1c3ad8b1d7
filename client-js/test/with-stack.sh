#!/usr/bin/env bash
# Starts the local stack of this checkout (deploy/local/run.sh, on the jars already built, with a
# data folder of its own), runs the JavaScript client's tests and the demo's browser test against
# it, and stops the stack. Arguments are passed to `node --test` (e.g. a single test file).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
js=$(cd "$here/.." && pwd)
root=$(cd "$js/.." && pwd)
work=$(mktemp -d)

HOMING_SKIP_BUILD=1 HOMING_LOCAL_DATA="$work/data" "$root/deploy/local/run.sh" > "$work/run.log" 2>&1 &
stack=$!
cleanup() {
  kill -TERM "$stack" 2>/dev/null || true
  wait "$stack" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 240); do
  grep -q "Homing is up" "$work/run.log" && break
  kill -0 "$stack" 2>/dev/null || { cat "$work/run.log"; echo "client-js: the stack did not start"; exit 1; }
  sleep 0.5
done
grep -q "Homing is up" "$work/run.log" || { cat "$work/run.log"; echo "client-js: no start in 120 s"; exit 1; }

cd "$js"
status=0
if (($# == 0)); then set -- test/*.test.js; fi
node --test --test-concurrency=1 --test-timeout=120000 "$@" || status=$?
if ((status != 0)); then
  tail -n 20 "$work/data/logs/"*.log || true
fi
exit "$status"
