#!/usr/bin/env bash
# Starts the local stack as the README says, checks that the Send API refuses an unknown key,
# sends messages with the CLI, checks that a listening user received them, and stops the stack.
# Uses the jars already built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
cli=(java -jar "$root/client/target/homing-cli.jar")

HOMING_SKIP_BUILD=1 HOMING_LOCAL_DATA="$work/data" "$here/run.sh" > "$work/run.log" 2>&1 &
stack=$!
cleanup() {
  kill -TERM "$stack" 2>/dev/null || true  # async jobs of a script ignore SIGINT
  wait "$stack" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 240); do
  grep -q "Homing is up" "$work/run.log" && break
  kill -0 "$stack" 2>/dev/null || { cat "$work/run.log"; echo "smoke: stack did not start"; exit 1; }
  sleep 0.5
done
grep "Homing is up" "$work/run.log" || { cat "$work/run.log"; echo "smoke: no start in 120 s"; exit 1; }

# The Send API asks for the development key: another key is refused, and sends nothing.
if HOMING_API_KEY=not-a-key "${cli[@]}" send --to smoke-user --text "refused" \
  2> "$work/refused.log"; then
  echo "smoke: a send with an unknown API key was accepted"; exit 1
fi
grep -q "UNAUTHENTICATED: unknown API key" "$work/refused.log" \
  || { cat "$work/refused.log"; echo "smoke: no UNAUTHENTICATED for an unknown API key"; exit 1; }
"${cli[@]}" send --to smoke-user --text "sent while offline" > /dev/null
"${cli[@]}" listen --user smoke-user --url ws://127.0.0.1:7411/ws > "$work/listen.log" 2>&1 &
listener=$!
"${cli[@]}" send --to smoke-user --text "sent while online" > /dev/null || true
for _ in $(seq 1 60); do
  grep -q "seq=2 .*sent while online" "$work/listen.log" && break
  sleep 0.5
done
kill "$listener" 2>/dev/null || true
cat "$work/listen.log"
grep -q "seq=1 .*sent while offline" "$work/listen.log" \
  && grep -q "seq=2 .*sent while online" "$work/listen.log" \
  || { echo "smoke: the listener did not receive both messages"; tail -n 20 "$work/data/logs/"*.log; exit 1; }
echo "smoke: 3 passed, 0 failed"
