#!/usr/bin/env bash
# Makes a development CA and the certificates an ohfed federation needs
# (SPEC §8; README "Certificates"). For development and tests only: a real
# deployment uses the NHS's own CA.
#
#   deploy/dev-certs.sh DIR [TRUST...]
#
# In DIR:
#   ca.pem, ca.key                    the development CA (kept if present)
#   server.pem, server.key            any aggregator's serving certificate,
#                                     valid for localhost, 127.0.0.1, ::1 and
#                                     this host's name and addresses
#   national.pem, national.key        CN "national": the national aggregator
#                                     and national query callers
#   regional-REGION.pem, .key         CN "region:REGION", one per region of the
#                                     registry (OHFED_REGISTRY, default the
#                                     embedded England one): what a regional
#                                     aggregator presents upstream
#   trust-CODE.pem, trust-CODE.key    CN "trust:CODE" for each TRUST named:
#                                     what that trust's agent presents
# The common name is the identity (common/identity.h). Keys are EC P-256,
# mode 0600. Running it again keeps the CA and every certificate it signed,
# issues what is missing, and re-issues the server certificate when this
# host's names or addresses changed.
set -euo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: $0 DIR [TRUST...]" >&2
  exit 2
fi
DIR=$1
shift
HERE=$(cd "$(dirname "$0")" && pwd)
REGISTRY=${OHFED_REGISTRY:-$HERE/../common/data/england_orgs.csv}
DAYS=${OHFED_CERT_DAYS:-825}

TRUSTS=()
for trust in "$@"; do
  code=$(echo "$trust" | tr '[:lower:]' '[:upper:]')
  [[ "$code" =~ ^[A-Z0-9]{3,5}$ ]] || {
    echo "dev-certs: '$trust' is not an ODS code (3 to 5 letters or digits)" >&2
    exit 2
  }
  TRUSTS+=("$code")
done

command -v openssl >/dev/null || {
  echo "dev-certs: openssl not found (apt-get install openssl)" >&2
  exit 1
}
[ -r "$REGISTRY" ] || { echo "dev-certs: cannot read registry $REGISTRY" >&2; exit 1; }
mkdir -p "$DIR"
umask 077

fail() { echo "dev-certs: $*" >&2; exit 1; }

new_key() {  # FILE
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null \
    || fail "cannot write key $1"
  chmod 600 "$1"
}

make_ca() {
  [ -s "$DIR/ca.pem" ] && [ -s "$DIR/ca.key" ] && return 0
  new_key "$DIR/ca.key"
  openssl req -x509 -new -key "$DIR/ca.key" -out "$DIR/ca.pem" -days 3650 \
    -subj "/O=ohfed development/CN=ohfed development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null \
    || fail "cannot make the CA in $DIR"
  chmod 644 "$DIR/ca.pem"
}

# Whether NAME.pem and NAME.key exist, match, and were signed by this CA.
valid() {  # NAME
  local pem=$DIR/$1.pem key=$DIR/$1.key
  [ -s "$pem" ] && [ -s "$key" ] || return 1
  openssl verify -CAfile "$DIR/ca.pem" "$pem" >/dev/null 2>&1 || return 1
  [ "$(openssl x509 -in "$pem" -noout -pubkey 2>/dev/null)" = \
    "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ]
}

issue() {  # NAME CN EXTENSIONS
  local name=$1 cn=$2 ext=$3
  local csr
  csr=$(mktemp)
  new_key "$DIR/$name.key"
  openssl req -new -key "$DIR/$name.key" -subj "/O=ohfed/CN=$cn" -out "$csr" 2>/dev/null \
    || fail "cannot make a request for $cn"
  openssl x509 -req -in "$csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$DAYS" -out "$DIR/$name.pem" \
    -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "$ext") 2>/dev/null \
    || fail "cannot sign the certificate for $cn"
  rm -f "$csr"
  chmod 644 "$DIR/$name.pem"
}

client() {  # NAME CN
  valid "$1" || issue "$1" "$2" "extendedKeyUsage=clientAuth"
}

server_san() {
  local san="DNS:localhost,IP:127.0.0.1,IP:::1" host addr
  host=$(hostname 2>/dev/null || true)
  [ -n "$host" ] && [ "$host" != localhost ] && san="$san,DNS:$host"
  for host in $(hostname -f 2>/dev/null || true); do
    case ",$san," in *",DNS:$host,"*) ;; *) san="$san,DNS:$host" ;; esac
  done
  for addr in $(hostname -I 2>/dev/null || true); do
    case ",$san," in *",IP:$addr,"*) ;; *) san="$san,IP:$addr" ;; esac
  done
  echo "$san"
}

make_ca
san=$(server_san)
if ! valid server || [ "$(cat "$DIR/server.san" 2>/dev/null)" != "$san" ]; then
  issue server "ohfed aggregator" \
    "extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san"
  echo "$san" >"$DIR/server.san"
fi
client national national
for region in $(grep -v '^#' "$REGISTRY" | tail -n +2 | cut -d, -f1 | sort -u); do
  client "regional-$region" "region:$region"
done
for code in "${TRUSTS[@]}"; do
  client "trust-$code" "trust:$code"
done
echo "dev-certs: CA and certificates in $DIR"
