#!/usr/bin/env bash
# Makes a development CA and an edge certificate for localhost and 127.0.0.1 (subject alternative
# names) with openssl, in the folder given (default: deploy/local/.data/tls), unless they are there
# already:
#   ca.pem      the CA certificate: what clients trust (homing-cli listen --ca ca.pem)
#   ca.key      the CA's private key
#   edge.pem    the edges' certificate, signed by the CA (HOMING_TLS_CERT)
#   edge.key    its private key, PKCS#8 PEM (HOMING_TLS_KEY)
# ECDSA P-256 keys, valid for 365 days. For a laptop only, never for production.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${HOMING_LOCAL_DATA:-$here/.data}/tls}

if [[ -s "$dir/ca.pem" && -s "$dir/edge.pem" && -s "$dir/edge.key" ]]; then
  exit 0
fi
command -v openssl > /dev/null || { echo "openssl not found: apt-get install openssl" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
cat > edge.ext <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
EXT
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.pem -days 365 -subj "/CN=Homing development CA" \
    -addext "basicConstraints = critical, CA:TRUE" \
    -addext "keyUsage = critical, keyCertSign, cRLSign"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout edge.key -out edge.csr -subj "/CN=localhost"
  openssl x509 -req -in edge.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out edge.pem -days 365 -extfile edge.ext
} > openssl.log 2>&1 || { echo "openssl failed; see $dir/openssl.log" >&2; exit 1; }
chmod 600 ca.key edge.key
rm -f edge.csr
echo "made a development CA ($dir/ca.pem) and edge certificate ($dir/edge.pem)"
