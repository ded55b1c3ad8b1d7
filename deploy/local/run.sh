#!/usr/bin/env bash
# Starts Homing locally: a real Kafka broker (KRaft), Redis, one delivery-core, two edges and the
# notifier (webhooks to 127.0.0.1 and localhost, signed with a development secret).
# Ctrl-C stops everything. Data lives in deploy/local/.data (delete it to start from scratch).
#
#   REDIS_URL=redis://host:port   use this Redis instead of starting redis-server
#   HOMING_SKIP_BUILD=1           use the jars already built
#   HOMING_TLS=1                  edges serve TLS only (wss://, tls://), with a development CA and
#                                 certificate that dev-tls.sh makes once in .data/tls
#   HOMING_SEND_API_KEYS=file     the Send API's key file (docs/security.md); default: one that
#                                 lets HOMING_API_KEY (a development key) send to every user
#   HOMING_SECURE=1               every hop secured with that development CA (docs/security.md):
#                                 HOMING_TLS=1, and Kafka over SASL_SSL (SCRAM users), Redis over
#                                 TLS with client certificates and an ACL user, mutual TLS between
#                                 core and edges, the Send API and metrics over TLS; its passwords,
#                                 Kafka log and core store live in .data/secure, apart from a plain
#                                 run's (delete that folder to start the secure stack afresh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${HOMING_LOCAL_DATA:-$here/.data}
export HOMING_JWT_SECRET=${HOMING_JWT_SECRET:-homing-dev-secret-do-not-use-in-production}
# The Send API asks for this key (docs/security.md); the CLI, the load generator and the demo send
# it by default.
export HOMING_API_KEY=${HOMING_API_KEY:-homing-dev-api-key-do-not-use-in-production}
# The admin API (docs/operations.md#admin-api) asks for this key; bin/homing-admin sends it.
export HOMING_ADMIN_KEY=${HOMING_ADMIN_KEY:-homing-dev-admin-key-do-not-use-in-production}
# Push notifications (docs/push.md): the edges take webhook targets under these prefixes, and the
# notifier signs its requests to them with this secret.
export HOMING_PUSH_WEBHOOK_ALLOW=${HOMING_PUSH_WEBHOOK_ALLOW:-http://127.0.0.1:,http://localhost:}
export HOMING_WEBHOOK_SECRETS=${HOMING_WEBHOOK_SECRETS:-whsec_aG9taW5nLWRldi13ZWJob29rLXNlY3JldC1kby1ub3QtdXNl}
mkdir -p "$data/logs"
secure=${HOMING_SECURE:-}
if [[ "$secure" == 1 ]]; then
  HOMING_TLS=1
fi
tls="$data/tls"
if [[ "${HOMING_TLS:-}" == 1 ]]; then
  "$here/dev-tls.sh" "$tls"
fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  # Reverse start order: the notifier, edges, core, then Redis and Kafka.
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

for p in 9092 9093 7400 7401 7402 7403 7404 7410 7411 7412 7413 7420 7421 7430 7431; do require_free "$p" "Homing local stack"; done

if [[ -z "${HOMING_SKIP_BUILD:-}" ]]; then
  echo "building (mvn package, tests skipped)..."
  (cd "$root" && mvn -q -B -ntp -Dstyle.color=never -DskipTests package)
fi
started=$(date +%s%N)
core_jar="$root/delivery-core/target/homing-core.jar"
edge_jar="$root/edge-connector/target/homing-edge.jar"
notifier_jar="$root/notifier/target/homing-notifier.jar"

# Kafka: resolve the broker's jars from Maven Central once, format storage once, start.
classpath_file="$data/kafka.classpath"
if [[ ! -s "$classpath_file" ]]; then
  echo "resolving the Kafka broker from Maven Central..."
  mvn -q -B -ntp -Dstyle.color=never -f "$here/kafka/pom.xml" dependency:build-classpath -Dmdep.outputFile="$classpath_file"
fi
kafka_cp=$(cat "$classpath_file")
kafka_java=(java -Xmx512m -Dlog4j2.configurationFile="$here/kafka/log4j2.xml" -cp "$kafka_cp")
kafka_data="$data/kafka"
core_data="$data/core"
broker_properties="$data/server.properties"
format_args=()
if [[ "$secure" == 1 ]]; then
  # Passwords of the broker's own user and of the services' user, made once.
  secrets="$data/secure"
  mkdir -p "$secrets"
  chmod 700 "$secrets"
  for name in kafka-broker kafka redis; do
    [[ -s "$secrets/$name.password" ]] || openssl rand -hex 24 > "$secrets/$name.password"
  done
  broker_password=$(cat "$secrets/kafka-broker.password")
  kafka_password=$(cat "$secrets/kafka.password")
  redis_password=$(cat "$secrets/redis.password")
  scram="org.apache.kafka.common.security.scram.ScramLoginModule required"
  # The broker takes SASL_SSL only; its storage is formatted with the SCRAM users. Its log and
  # core's store live with the passwords: a new password comes with a new log.
  kafka_data="$secrets/kafka"
  core_data="$secrets/core"
  broker_properties="$secrets/server.properties" # holds the broker's password
  cat "$tls/kafka.key" "$tls/kafka.pem" > "$secrets/kafka-keystore.pem"
  sed -E "s#^(listeners|advertised.listeners|inter.broker.listener.name|listener.security.protocol.map)=.*##" \
    "$here/kafka/server.properties" > "$broker_properties"
  cat >> "$broker_properties" <<PROPERTIES
listeners=SASL_SSL://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=SASL_SSL://127.0.0.1:9092
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$scram username="broker" password="$broker_password";
ssl.keystore.type=PEM
ssl.keystore.location=$secrets/kafka-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.pem
PROPERTIES
  format_args=(--add-scram "SCRAM-SHA-512=[name=broker,password=$broker_password]"
    --add-scram "SCRAM-SHA-512=[name=homing,password=$kafka_password]")
  # What core and the edges (and Kafka's own tools: --command-config) connect with.
  cat > "$secrets/kafka-client.properties" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$scram username="homing" password="$kafka_password";
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.pem
PROPERTIES
  export HOMING_KAFKA_CONFIG="$secrets/kafka-client.properties"
else
  sed "s#^log.dirs=.*##" "$here/kafka/server.properties" > "$broker_properties"
fi
echo "log.dirs=$kafka_data" >> "$broker_properties"
if [[ ! -f "$kafka_data/meta.properties" ]]; then
  cluster_id=$("${kafka_java[@]}" kafka.tools.StorageTool random-uuid)
  "${kafka_java[@]}" kafka.tools.StorageTool format -t "$cluster_id" \
    -c "$broker_properties" --standalone ${format_args[@]+"${format_args[@]}"} \
    > "$data/logs/kafka-format.log"
fi
"${kafka_java[@]}" kafka.Kafka "$broker_properties" > "$data/logs/kafka.log" 2>&1 &
pids+=($!)
await_port 9092 kafka $!

# Redis: the one at REDIS_URL, or our own redis-server on a free port.
if [[ -z "${REDIS_URL:-}" ]]; then
  command -v redis-server > /dev/null || {
    echo "redis-server not found: apt-get install redis-server, or set REDIS_URL" >&2; exit 1; }
  redis_port=6379
  while port_open "$redis_port"; do redis_port=$((redis_port + 1)); done
  if [[ "$secure" == 1 ]]; then
    # TLS only, a client certificate of the CA asked for, and one ACL user, confined to the
    # services' key prefix: the default user is off. The users are in a file, so that the
    # password is not on the command line.
    cat > "$secrets/redis.conf" <<CONF
user default off
user homing on >$redis_password ~homing:* &homing:* +@all -@dangerous
CONF
    redis-server "$secrets/redis.conf" --port 0 --tls-port "$redis_port" --bind 127.0.0.1 \
      --save '' --appendonly no \
      --tls-cert-file "$tls/redis.pem" --tls-key-file "$tls/redis.key" \
      --tls-ca-cert-file "$tls/ca.pem" --tls-auth-clients yes \
      > "$data/logs/redis.log" 2>&1 &
    export REDIS_URL="rediss://127.0.0.1:$redis_port" HOMING_REDIS_USER=homing \
      HOMING_REDIS_PASSWORD="$redis_password" HOMING_REDIS_TLS_CA="$tls/ca.pem"
    redis_client_certificates=1
  else
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
      > "$data/logs/redis.log" 2>&1 &
    export REDIS_URL="redis://127.0.0.1:$redis_port"
  fi
  pids+=($!)
  await_port "$redis_port" redis $!
fi
if [[ "$secure" == 1 ]]; then
  export HOMING_INTERNAL_TLS_CA="$tls/ca.pem" HOMING_METRICS_TLS_CLIENT_CA="$tls/ca.pem"
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
# One operator, "dev", may act on every user with HOMING_ADMIN_KEY.
printf 'dev %s *\n' "$(printf '%s' "$HOMING_ADMIN_KEY" | sha256sum | cut -d' ' -f1)" \
  > "$data/admin-api-keys"
send_tls=()
if [[ "$secure" == 1 ]]; then
  # core.pem is core's identity everywhere: the Send API's TLS, mutual TLS with the edges, and
  # its client certificate for Redis.
  send_tls=(HOMING_SEND_TLS_CERT="$tls/core.pem" HOMING_SEND_TLS_KEY="$tls/core.key"
    HOMING_INTERNAL_TLS_CERT="$tls/core.pem" HOMING_INTERNAL_TLS_KEY="$tls/core.key"
    HOMING_METRICS_TLS_CERT="$tls/core.pem" HOMING_METRICS_TLS_KEY="$tls/core.key")
  if [[ -n "${redis_client_certificates:-}" ]]; then
    send_tls+=(HOMING_REDIS_TLS_CERT="$tls/core.pem" HOMING_REDIS_TLS_KEY="$tls/core.key")
  fi
fi
env ${send_tls[@]+"${send_tls[@]}"} HOMING_DATA_DIR="$core_data" \
  HOMING_SEND_API_KEYS="${HOMING_SEND_API_KEYS:-$data/send-api-keys}" \
  HOMING_ADMIN_API_KEYS="${HOMING_ADMIN_API_KEYS:-$data/admin-api-keys}" \
  java -jar "$core_jar" > "$data/logs/core.log" 2>&1 &
pids+=($!)
await_port 7400 core $!

ws=ws tcp=tcp
if [[ "${HOMING_TLS:-}" == 1 ]]; then
  export HOMING_TLS_CERT="$tls/edge.pem" HOMING_TLS_KEY="$tls/edge.key"
  ws=wss tcp=tls
fi
if [[ "$secure" == 1 ]]; then
  export HOMING_INTERNAL_TLS_CERT="$tls/edge.pem" HOMING_INTERNAL_TLS_KEY="$tls/edge.key" \
    HOMING_METRICS_TLS_CERT="$tls/edge.pem" HOMING_METRICS_TLS_KEY="$tls/edge.key"
  if [[ -n "${redis_client_certificates:-}" ]]; then
    export HOMING_REDIS_TLS_CERT="$tls/edge.pem" HOMING_REDIS_TLS_KEY="$tls/edge.key"
  fi
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
# The notifier: webhooks only here; APNs and FCM need credentials (docs/push.md).
HOMING_INSTANCE_ID=notifier-1 HOMING_METRICS_PORT=7402 \
  java -jar "$notifier_jar" > "$data/logs/notifier.log" 2>&1 &
pids+=($!)
await_port 7402 notifier $!

urls="$ws://127.0.0.1:7410/ws,$ws://127.0.0.1:7411/ws"
listen="java -jar client/target/homing-cli.jar listen --user alice"
send="java -jar client/target/homing-cli.jar send --to alice --text \"hello\""
trust=""
kafka_info="127.0.0.1:9092   (topics outbound, delivery-events, delivery-receipts, notifications)"
metrics="http://127.0.0.1:7401/metrics (core)   :7430, :7431 (edges)   :7402 (notifier); /health alike"
if [[ "${HOMING_TLS:-}" == 1 ]]; then
  listen="$listen --url $urls --ca $tls/ca.pem"
  trust="
  Trust (CA)        $tls/ca.pem   (development CA: every certificate is for 127.0.0.1, localhost)"
fi
if [[ "$secure" == 1 ]]; then
  send="$send --tls-ca $tls/ca.pem"
  redis_info="Redis TLS + ACL user homing"
  [[ -n "${redis_client_certificates:-}" ]] || redis_info="Redis as REDIS_URL says"
  kafka_info="127.0.0.1:9092   SASL_SSL, user homing: --command-config $HOMING_KAFKA_CONFIG
  Secured           Kafka SASL_SSL, $redis_info, core <-> edges mutual TLS,
                    Send API TLS, metrics HTTPS (passwords in $secrets)"
  metrics="https://127.0.0.1:7401/metrics (core)   :7430, :7431 (edges)   :7402 (notifier); /health alike
                    (curl --cacert $tls/ca.pem --cert $tls/core.pem --key $tls/core.key https://127.0.0.1:7401/metrics)"
fi

# A REDIS_URL given with a password is printed without it.
redis_shown=$(sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#' <<< "$REDIS_URL")
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
cat <<INFO

Homing is up (started in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s).
  Send API (gRPC)   127.0.0.1:7400   ($send_auth)
  Admin API (gRPC)  127.0.0.1:7404   (bin/homing-admin; authorization: Bearer $HOMING_ADMIN_KEY)
  WebSocket         $ws://127.0.0.1:7410/ws   $ws://127.0.0.1:7411/ws
  TCP               $tcp://127.0.0.1:7412   $tcp://127.0.0.1:7413$trust
  Kafka             $kafka_info
  Metrics           $metrics
  Redis             $redis_shown
  Push              notifier: webhooks under $HOMING_PUSH_WEBHOOK_ALLOW (docs/push.md)
  Logs              $data/logs
Try, in another terminal:
  $listen
  $send
Ctrl-C stops everything.
INFO
wait -n "${pids[@]}" || true
echo "a process exited unexpectedly; see $data/logs" >&2
exit 1
