#!/usr/bin/env bash
# Fuzzes every Jazzer target (@FuzzTest in a *FuzzTest class, one per class) one after the other
# and prints how many inputs each ran. See docs/fuzzing.md.
#
#   .ci/fuzz.sh [--duration 10s] [--executions N] [--targets PATTERN]
#
# --duration   the most time per target (Jazzer's max_duration: 30s, 5m, 1h…); default 10s, or
#              24h with --executions alone
# --executions the most inputs per target (Jazzer's max_executions); default: no limit
# --targets    which classes, as surefire's -Dtest pattern (e.g. 'TcpTransportFuzzTest,Api*');
#              default: every *FuzzTest
#
# Each target fuzzes in a JVM of its own (Jazzer fuzzes one test per JVM): surefire forks per
# class (-DreuseForks=false), single-threaded, with the build's -Xmx1g. A finding fails its
# target; Jazzer stores the input in the target's inputs directory under src/test/resources, where
# plain `mvn verify` runs it from then on. The corpus it grows stays in <module>/.cifuzz-corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=""
executions=""
targets='*FuzzTest'
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --executions) executions="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    *) echo "usage: $0 [--duration 10s] [--executions N] [--targets PATTERN]" >&2; exit 2 ;;
  esac
done
if [[ -z "$duration" ]]; then
  duration=$([[ -n "$executions" ]] && echo 24h || echo 10s)
fi

modules=edge-connector,delivery-core,offline-store,client
log=$(mktemp -t homing-fuzz.XXXXXX.log)
echo "fuzzing every target for ${duration}${executions:+ or $executions inputs}, log: $log"

export JAZZER_FUZZ=1 JAZZER_MAX_DURATION="$duration"
if [[ -n "$executions" ]]; then
  export JAZZER_MAX_EXECUTIONS="$executions"
fi
status=0
# -fae: a finding in one module does not keep the others from being fuzzed.
mvn -o -B -ntp -fae test -pl "$modules" -am -Dtest="$targets" \
  -Dsurefire.failIfNoSpecifiedTests=false -DreuseForks=false > "$log" 2>&1 || status=$?

# Per target: libFuzzer's "Done N runs in S second(s)" after surefire's "Running <class>", and
# surefire's verdict and wall time for the class.
awk '
  /^\[INFO\] Running .*FuzzTest$/ { target = $3; runs[target] = "-"; order[++n] = target }
  /^Done [0-9]+ runs in/ { if (target != "") runs[target] = $2 }
  /Tests run:.*Time elapsed:.* in .*FuzzTest$/ {
    t = $NF; w = $0; sub(/.*Time elapsed: /, "", w); sub(/ .*/, "", w)
    wall[t] = w " s"; verdict[t] = ($0 ~ /FAILURE/) ? "FINDING" : "ok"
  }
  END {
    printf "%-62s %12s %10s  %s\n", "target", "executions", "wall", "result"
    for (i = 1; i <= n; i++) {
      t = order[i]; short = t; sub(/^io\.homing\./, "", short)
      printf "%-62s %12s %10s  %s\n", short, runs[t], wall[t], verdict[t] == "" ? "?" : verdict[t]
    }
  }' "$log"
if ((status)); then
  echo "fuzzing failed (exit $status): findings are stored as inputs under src/test/resources;" \
    "see $log" >&2
fi
exit "$status"
