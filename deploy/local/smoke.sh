#!/usr/bin/env bash
# Starts the local stack as the README says, checks that the Send API refuses an unknown key,
# sends messages with the CLI, checks that a listening user received them, that a send waiting
# for delivery saw its receipts and GetStatus says the message was acked, and that a user who went
# away was notified through her webhook, and stops the stack.
# Uses the jars already built. With --secure, the stack runs with every hop secured
# (HOMING_SECURE=1), and the smoke test also checks that each hop is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
cli=(java -jar "$root/client/target/homing-cli.jar")
secure=""
send_tls=()
listen_url=(--url ws://127.0.0.1:7411/ws)
receipts_kafka=()
passed=6
if [[ "${1:-}" == --secure ]]; then
  secure=1
  send_tls=(--tls-ca "$work/data/tls/ca.pem")
  listen_url=(--url wss://127.0.0.1:7411/ws --ca "$work/data/tls/ca.pem")
  receipts_kafka=(--kafka-config "$work/data/secure/kafka-client.properties")
fi

HOMING_SECURE=$secure HOMING_SKIP_BUILD=1 HOMING_LOCAL_DATA="$work/data" "$here/run.sh" \
  > "$work/run.log" 2>&1 &
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

if [[ -n "$secure" ]]; then
  # Each hop says how it is secured when it starts; a plaintext Send API call is refused.
  logs="$work/data/logs"
  grep -q "Kafka 127.0.0.1:9092 (SASL_SSL" "$logs/core.log" \
    && grep -q "Redis rediss://127.0.0.1:[0-9]* as homing with a password" "$logs/core.log" \
    && grep -q "edges over mutual TLS" "$logs/core.log" \
    && grep -q "core grpc 127.0.0.1:7420 (mutual TLS)" "$logs/edge-1.log" \
    && grep -q "Kafka 127.0.0.1:9092 (SASL_SSL" "$logs/edge-1.log" \
    || { tail -n 5 "$logs/core.log" "$logs/edge-1.log"; echo "smoke: a hop is not secured"; exit 1; }
  if "${cli[@]}" send --to smoke-user --text "refused" 2> "$work/plaintext.log"; then
    echo "smoke: a plaintext send to the TLS Send API was accepted"; exit 1
  fi
  grep -q "UNAVAILABLE" "$work/plaintext.log" \
    || { cat "$work/plaintext.log"; echo "smoke: no UNAVAILABLE for plaintext"; exit 1; }
  # /metrics over HTTPS asks for a client certificate of the CA; /health answers probes.
  tls="$work/data/tls"
  status=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tls/ca.pem" \
    https://127.0.0.1:7401/metrics)
  [[ "$status" == 403 ]] || { echo "smoke: /metrics without a certificate: $status"; exit 1; }
  curl -sf --cacert "$tls/ca.pem" https://127.0.0.1:7430/health > /dev/null \
    || { echo "smoke: /health over HTTPS failed"; exit 1; }
  # Into a file first: grep -q stops at its match, and with pipefail curl's broken pipe would fail.
  curl -sf --cacert "$tls/ca.pem" --cert "$tls/core.pem" --key "$tls/core.key" \
    -o "$work/metrics.txt" https://127.0.0.1:7401/metrics \
    && grep -q homing_partitions_owned "$work/metrics.txt" \
    || { echo "smoke: /metrics with a certificate failed"; exit 1; }
  passed=9
fi

# The Send API asks for the development key: another key is refused, and sends nothing.
if HOMING_API_KEY=not-a-key "${cli[@]}" send "${send_tls[@]}" --to smoke-user --text "refused" \
  2> "$work/refused.log"; then
  echo "smoke: a send with an unknown API key was accepted"; exit 1
fi
grep -q "UNAUTHENTICATED: unknown API key" "$work/refused.log" \
  || { cat "$work/refused.log"; echo "smoke: no UNAUTHENTICATED for an unknown API key"; exit 1; }
"${cli[@]}" send "${send_tls[@]}" --to smoke-user --text "sent while offline" > /dev/null
"${cli[@]}" listen --user smoke-user "${listen_url[@]}" > "$work/listen.log" 2>&1 &
listener=$!
"${cli[@]}" send "${send_tls[@]}" --to smoke-user --text "sent while online" > /dev/null || true
for _ in $(seq 1 60); do
  grep -q "seq=2 .*sent while online" "$work/listen.log" && break
  sleep 0.5
done
# Waiting for delivery: the CLI reads the message's receipts until the listener acked it.
"${cli[@]}" send "${send_tls[@]}" "${receipts_kafka[@]}" --to smoke-user --text "with receipts" \
  --wait-delivered=PT30S > "$work/receipts.log" 2>&1 \
  && grep -q "smoke-user/.*: ACKED seq 3" "$work/receipts.log" \
  || { cat "$work/receipts.log"; echo "smoke: no ACKED receipt for a listening user"; exit 1; }
kill "$listener" 2>/dev/null || true
cat "$work/listen.log" "$work/receipts.log"
# Where that message stands now, as core says (GetStatus): acked by the one device.
id=$(sed -n 's/^message //p' "$work/receipts.log")
"${cli[@]}" status "${send_tls[@]}" --user smoke-user --id "$id" > "$work/status.log" 2>&1 \
  && grep -q "ACKED, seq 3" "$work/status.log" \
  || { cat "$work/status.log"; echo "smoke: GetStatus did not say ACKED"; exit 1; }
cat "$work/status.log"

# Push: a device registers a webhook target and goes away; a message for the user makes the
# notifier call the webhook, signed with the local stack's development secret.
"${cli[@]}" webhooks --port 7499 > "$work/webhooks.log" 2>&1 &
receiver=$!
for _ in $(seq 1 40); do grep -q "receiving webhooks" "$work/webhooks.log" && break; sleep 0.25; done
"${cli[@]}" listen --user smoke-push "${listen_url[@]}" --webhook http://127.0.0.1:7499/hook \
  > "$work/push-listen.log" 2>&1 &
push_listener=$!
for _ in $(seq 1 60); do grep -q "push target registered" "$work/push-listen.log" && break; sleep 0.5; done
kill "$push_listener" 2>/dev/null || true
wait "$push_listener" 2>/dev/null || true
sleep 1 # the edge publishes the disconnect; core applies it
"${cli[@]}" send "${send_tls[@]}" --to smoke-push --text "while away" > /dev/null
for _ in $(seq 1 60); do grep -q '"user_id":"smoke-push"' "$work/webhooks.log" && break; sleep 0.5; done
kill "$receiver" 2>/dev/null || true
cat "$work/push-listen.log" "$work/webhooks.log"
grep -q -- '-> 200' "$work/webhooks.log" && grep -q '"waiting":1' "$work/webhooks.log" \
  || { echo "smoke: no signed webhook notification for a user who went away"; tail -n 20 "$work/data/logs/notifier.log" "$work/data/logs/core.log"; exit 1; }
grep -q "seq=1 .*sent while offline" "$work/listen.log" \
  && grep -q "seq=2 .*sent while online" "$work/listen.log" \
  || { echo "smoke: the listener did not receive both messages"; tail -n 20 "$work/data/logs/"*.log; exit 1; }
echo "smoke${secure:+ (secure)}: $passed passed, 0 failed"
