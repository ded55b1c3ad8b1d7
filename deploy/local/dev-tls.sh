#!/usr/bin/env bash
# Makes a development CA and a certificate for each process of the local stack with openssl, in
# the folder given (default: deploy/local/.data/tls), keeping those that are there already:
#   ca.pem, ca.key        the CA: what clients and every process trust (homing-cli listen --ca ca.pem)
#   edge.pem, edge.key    the edges: TLS to clients (HOMING_TLS_CERT) and mutual TLS with core
#   core.pem, core.key    delivery-core: the Send API's TLS and mutual TLS with the edges
#   kafka.pem, kafka.key  the Kafka broker's SASL_SSL listener (HOMING_SECURE=1)
#   redis.pem, redis.key  Redis's TLS port (HOMING_SECURE=1)
# Each certificate names its process (DNS:edge, ...), localhost and 127.0.0.1. Core's and the
# edges' serve both ends of mutual TLS (extended key usages serverAuth and clientAuth); Kafka's and
# Redis's only serve (serverAuth). One CA signs them all, so on this stack the internal CA is not
# kept to Homing's processes as docs/security.md asks of a deployment. Keys are ECDSA P-256,
# PKCS#8 PEM; certificates are valid for 365 days. For a laptop only, never for production.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${HOMING_LOCAL_DATA:-$here/.data}/tls}

command -v openssl > /dev/null || { echo "openssl not found: apt-get install openssl" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
made=()
{
  if [[ ! -s ca.pem || ! -s ca.key ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout ca.key -out ca.pem -days 365 -subj "/CN=Homing development CA" \
      -addext "basicConstraints = critical, CA:TRUE" \
      -addext "keyUsage = critical, keyCertSign, cRLSign"
    rm -f edge.pem core.pem kafka.pem redis.pem # signed by a CA that is gone
    made+=(ca)
  fi
  for name in edge core kafka redis; do
    usage="serverAuth, clientAuth"
    [[ $name == kafka || $name == redis ]] && usage=serverAuth
    # Earlier versions made edge.pem for serverAuth alone: make it again for mutual TLS.
    if [[ -s $name.pem && -s $name.key ]] && { [[ $usage == serverAuth ]] \
      || openssl x509 -in "$name.pem" -noout -ext extendedKeyUsage | grep -q "Client Auth"; }; then
      continue
    fi
    cat > "$name.ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = $usage
subjectAltName = DNS:$name, DNS:localhost, IP:127.0.0.1
EXT
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$name.key" -out "$name.csr" -subj "/CN=$name"
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
      -out "$name.pem" -days 365 -extfile "$name.ext"
    rm -f "$name.csr" "$name.ext"
    made+=("$name")
  done
} > openssl.log 2>&1 || { echo "openssl failed; see $dir/openssl.log" >&2; exit 1; }
chmod 600 ./*.key
if ((${#made[@]})); then
  echo "made development certificates in $dir: ${made[*]}"
fi
