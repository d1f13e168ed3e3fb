#!/usr/bin/env bash
# Creates a new certificate authority (CA) and the TLS files every node of one cluster uses, with
# the JDK's keytool. Run it twice and you get two CAs that do not trust each other.
#
#   scripts/make-certs.sh DIR [--san IP:10.0.0.2] [--san DNS:node-b.example] ... [--force]
#
# DIR then holds (PKCS12 stores, EC P-256 keys, SHA-256 signatures):
#
#   password        a random password for the three .p12 files, readable by the owner only
#                   (chmod 600). The nodes read it from here, never from the command line.
#   truststore.p12  the CA certificate only: whom a node trusts (cluster peers, proxy, clients).
#   node.p12        the keystore: the node key and its certificate chain (node, CA). The node
#                   certificate names 127.0.0.1 and localhost, plus every --san given, for both
#                   TLS server and client use; valid 825 days.
#   ca.crt          the CA certificate in PEM, public, for tools outside Java (openssl s_client).
#   ca.p12          the CA's private key (valid 10 years). No node needs it: it only signs more
#                   certificates. Keep it out of the copies you hand to nodes.
#
# Every node of a cluster gets a copy of the same DIR (without ca.p12) and `--cluster-tls DIR`;
# the proxy may serve its client port with the same files (`--client-tls DIR`), and a client
# needs only truststore.p12 and password (plus node.p12 if the proxy requires client
# certificates). Give one --san per address the nodes reach each other at when they run on
# several machines: nodes check that the peer's certificate names the address they dial.
#
# Refuses to replace an existing CA in DIR unless --force (then DIR gets a new CA and new files,
# and nodes with the old ones no longer join). Exit status 0 on success, 1 if keytool failed or
# DIR already holds a CA, 2 for a bad command line.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: scripts/make-certs.sh DIR [--san IP:ADDRESS|DNS:NAME]... [--force]"
}

bad_usage() {
  echo "make-certs.sh: $*; $(usage)" >&2
  exit 2
}

DIR=
FORCE=0
SANS=(IP:127.0.0.1 DNS:localhost)
while (($# > 0)); do
  case $1 in
    --san)
      (($# >= 2)) || bad_usage "--san needs a value"
      [[ $2 =~ ^IP:[0-9A-Fa-f.:]+$ || $2 =~ ^DNS:[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] ||
        bad_usage "--san takes IP:ADDRESS or DNS:NAME, got '$2'"
      SANS+=("$2")
      shift 2
      ;;
    --force) FORCE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) bad_usage "unknown option '$1'" ;;
    *)
      [[ -z $DIR ]] || bad_usage "one DIR only, got '$DIR' and '$1'"
      DIR=$1
      shift
      ;;
  esac
done
[[ -n $DIR ]] || bad_usage "DIR is missing"
command -v keytool >/dev/null || die "keytool not found: install a Java 17 JDK"
if [[ -e $DIR/ca.p12 || -e $DIR/ca.crt ]] && ((!FORCE)); then
  die "$DIR already holds a CA; use --force to replace it (nodes with the old files then no longer join)"
fi

umask 077
mkdir -p "$DIR"
WORK=$(mktemp -d "$DIR/.make-certs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# 48 hex digits: nothing a shell or HOCON would need to quote.
od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$WORK/password"
echo >>"$WORK/password"
# A random name per CA, so two CAs are told apart in certificates and error messages.
CA_NAME="akka-reverse-proxy CA $(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
SAN_LIST=$(IFS=,; echo "${SANS[*]}")
EC=(-keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA)

k() { # keytool with the password file, quiet unless it fails
  local output
  if ! output=$(keytool "$@" -storepass:file "$WORK/password" 2>&1); then
    echo "$output" >&2
    die "keytool $1 failed"
  fi
}

k -genkeypair -alias ca "${EC[@]}" -dname "CN=$CA_NAME" -validity 3650 \
  -ext bc:c=ca:true,pathlen:0 -ext ku:c=keyCertSign,cRLSign \
  -keystore "$WORK/ca.p12" -storetype PKCS12
k -exportcert -rfc -alias ca -keystore "$WORK/ca.p12" -file "$WORK/ca.crt"
k -importcert -noprompt -alias ca -file "$WORK/ca.crt" -keystore "$WORK/truststore.p12" -storetype PKCS12

k -genkeypair -alias node "${EC[@]}" -dname "CN=akka-reverse-proxy node" -validity 825 \
  -keystore "$WORK/node.p12" -storetype PKCS12
k -certreq -alias node -keystore "$WORK/node.p12" -file "$WORK/node.csr"
k -gencert -rfc -alias ca -keystore "$WORK/ca.p12" -infile "$WORK/node.csr" -outfile "$WORK/node.crt" \
  -sigalg SHA256withECDSA -validity 825 -ext "san=$SAN_LIST" -ext ku:c=digitalSignature \
  -ext eku=serverAuth,clientAuth
# keytool accepts the signed certificate only once it can build the chain to a trusted CA; the
# CA entry is removed again afterwards, the chain stays in the node's key entry.
k -importcert -noprompt -alias ca -file "$WORK/ca.crt" -keystore "$WORK/node.p12"
k -importcert -noprompt -alias node -file "$WORK/node.crt" -keystore "$WORK/node.p12"
k -delete -alias ca -keystore "$WORK/node.p12"

for file in password truststore.p12 node.p12 ca.crt ca.p12; do
  mv -f "$WORK/$file" "$DIR/$file"
done
chmod 644 "$DIR/ca.crt"
echo "make-certs.sh: new CA \"$CA_NAME\" in $DIR (node certificate for $SAN_LIST)"
