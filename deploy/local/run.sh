#!/usr/bin/env bash
# Starts Homing locally: a real Kafka broker (KRaft), Redis, one delivery-core and two edges.
# Ctrl-C stops everything. Data lives in deploy/local/.data (delete it to start from scratch).
#
#   REDIS_URL=redis://host:port   use this Redis instead of starting redis-server
#   HOMING_SKIP_BUILD=1           use the jars already built
#   HOMING_TLS=1                  edges serve TLS only (wss://, tls://), with a development CA and
#                                 certificate that dev-tls.sh makes once in .data/tls
#   HOMING_SEND_API_KEYS=file     the Send API's key file (docs/security.md); default: one that
#                                 lets HOMING_API_KEY (a development key) send to every user
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${HOMING_LOCAL_DATA:-$here/.data}
export HOMING_JWT_SECRET=${HOMING_JWT_SECRET:-homing-dev-secret-do-not-use-in-production}
# The Send API asks for this key (docs/security.md); the CLI, the load generator and the demo send
# it by default.
export HOMING_API_KEY=${HOMING_API_KEY:-homing-dev-api-key-do-not-use-in-production}
mkdir -p "$data/logs"

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  # Reverse start order: edges, core, then Redis and Kafka.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  echo "stopped."
  exit 0
}
trap stop INT TERM EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

await_port() { # port, name, pid
  for _ in $(seq 1 600); do
    if port_open "$1"; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then
      echo "$2 exited; see $data/logs/$2.log" >&2
      tail -n 30 "$data/logs/$2.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  echo "$2 did not open port $1 within 60 s; see $data/logs/$2.log" >&2
  exit 1
}

require_free() { # port, what
  if port_open "$1"; then
    echo "port $1 ($2) is already in use: stop what holds it first" >&2
    exit 1
  fi
}

for p in 9092 9093 7400 7401 7410 7411 7412 7413 7420 7421 7430 7431; do require_free "$p" "Homing local stack"; done

if [[ -z "${HOMING_SKIP_BUILD:-}" ]]; then
  echo "building (mvn package, tests skipped)..."
  (cd "$root" && mvn -q -B -ntp -Dstyle.color=never -DskipTests package)
fi
started=$(date +%s%N)
core_jar="$root/delivery-core/target/homing-core.jar"
edge_jar="$root/edge-connector/target/homing-edge.jar"

# Kafka: resolve the broker's jars from Maven Central once, format storage once, start.
classpath_file="$data/kafka.classpath"
if [[ ! -s "$classpath_file" ]]; then
  echo "resolving the Kafka broker from Maven Central..."
  mvn -q -B -ntp -Dstyle.color=never -f "$here/kafka/pom.xml" dependency:build-classpath -Dmdep.outputFile="$classpath_file"
fi
kafka_cp=$(cat "$classpath_file")
kafka_java=(java -Xmx512m -Dlog4j2.configurationFile="$here/kafka/log4j2.xml" -cp "$kafka_cp")
sed "s#^log.dirs=.*##" "$here/kafka/server.properties" > "$data/server.properties"
echo "log.dirs=$data/kafka" >> "$data/server.properties"
if [[ ! -f "$data/kafka/meta.properties" ]]; then
  cluster_id=$("${kafka_java[@]}" kafka.tools.StorageTool random-uuid)
  "${kafka_java[@]}" kafka.tools.StorageTool format -t "$cluster_id" \
    -c "$data/server.properties" --standalone > "$data/logs/kafka-format.log"
fi
"${kafka_java[@]}" kafka.Kafka "$data/server.properties" > "$data/logs/kafka.log" 2>&1 &
pids+=($!)
await_port 9092 kafka $!

# Redis: the one at REDIS_URL, or our own redis-server on a free port.
if [[ -z "${REDIS_URL:-}" ]]; then
  command -v redis-server > /dev/null || {
    echo "redis-server not found: apt-get install redis-server, or set REDIS_URL" >&2; exit 1; }
  redis_port=6379
  while port_open "$redis_port"; do redis_port=$((redis_port + 1)); done
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    > "$data/logs/redis.log" 2>&1 &
  pids+=($!)
  await_port "$redis_port" redis $!
  export REDIS_URL="redis://127.0.0.1:$redis_port"
fi

# Unless HOMING_SEND_API_KEYS names a key file of the user's, one sender, "dev", may send to every
# user with HOMING_API_KEY: the key file holds the key's SHA-256 only.
if [[ -z "${HOMING_SEND_API_KEYS:-}" ]]; then
  printf 'dev %s *\n' "$(printf '%s' "$HOMING_API_KEY" | sha256sum | cut -d' ' -f1)" \
    > "$data/send-api-keys"
  send_auth="authorization: Bearer $HOMING_API_KEY"
else
  send_auth="API keys of $HOMING_SEND_API_KEYS"
fi
HOMING_DATA_DIR="$data/core" HOMING_SEND_API_KEYS="${HOMING_SEND_API_KEYS:-$data/send-api-keys}" \
  java -jar "$core_jar" > "$data/logs/core.log" 2>&1 &
pids+=($!)
await_port 7400 core $!

ws=ws tcp=tcp
if [[ "${HOMING_TLS:-}" == 1 ]]; then
  "$here/dev-tls.sh" "$data/tls"
  export HOMING_TLS_CERT="$data/tls/edge.pem" HOMING_TLS_KEY="$data/tls/edge.key"
  ws=wss tcp=tls
fi

edge_pids=()
for i in 1 2; do # both edges start at once
  HOMING_NODE_ID="edge-$i" HOMING_WS_PORT=$((7409 + i)) HOMING_TCP_PORT=$((7411 + i)) \
    HOMING_EDGE_GRPC_PORT=$((7419 + i)) HOMING_METRICS_PORT=$((7429 + i)) \
    java -jar "$edge_jar" > "$data/logs/edge-$i.log" 2>&1 &
  pids+=($!)
  edge_pids+=($!)
done
for i in 1 2; do
  await_port $((7409 + i)) "edge-$i" "${edge_pids[i - 1]}"
  await_port $((7411 + i)) "edge-$i" "${edge_pids[i - 1]}"
done
urls="$ws://127.0.0.1:7410/ws,$ws://127.0.0.1:7411/ws"
listen="java -jar client/target/homing-cli.jar listen --user alice"
trust=""
if [[ "${HOMING_TLS:-}" == 1 ]]; then
  listen="$listen --url $urls --ca $data/tls/ca.pem"
  trust="
  Trust (CA)        $data/tls/ca.pem   (development CA: the edges' certificate is for 127.0.0.1, localhost)"
fi

elapsed_ms=$((($(date +%s%N) - started) / 1000000))
cat <<INFO

Homing is up (started in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s).
  Send API (gRPC)   127.0.0.1:7400   ($send_auth)
  WebSocket         $ws://127.0.0.1:7410/ws   $ws://127.0.0.1:7411/ws
  TCP               $tcp://127.0.0.1:7412   $tcp://127.0.0.1:7413$trust
  Kafka             127.0.0.1:9092   (topics outbound, delivery-events)
  Metrics           http://127.0.0.1:7401/metrics (core)   :7430, :7431 (edges); /health alike
  Redis             $REDIS_URL
  Logs              $data/logs
Try, in another terminal:
  $listen
  java -jar client/target/homing-cli.jar send --to alice --text "hello"
Ctrl-C stops everything.
INFO
wait -n "${pids[@]}" || true
echo "a process exited unexpectedly; see $data/logs" >&2
exit 1
