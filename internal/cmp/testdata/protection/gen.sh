#!/bin/sh
# Regenerates the OpenSSL-made golden files of the protection tests in this
# folder. Run as root from anywhere:
#
#     sh internal/cmp/testdata/protection/gen.sh
#
# It makes test-only credentials with `openssl req/x509/genpkey`, then runs
# `openssl cmp` mock servers and clients inside a private network namespace
# (`unshare -n`; the mock binds every interface) and keeps what they sent
# (-reqout) and received (-rspout). Every server is bounded by `timeout` and
# -max_msgs and stopped by its PID. Tests only read the results; they never
# run this script.
set -eu

cd "$(dirname "$0")"
if [ -z "${PROTECTION_GEN_NETNS:-}" ]; then
	exec unshare -n env PROTECTION_GEN_NETNS=1 sh "$0" "$@"
fi
ip link set lo up

SECRET=protection-test
REF=4711
PORT=18090
rm -rf creds msg
mkdir -p creds msg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

days="-days 36500"
ca_ext="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash"
ee_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"
printf '%s\n' "$ca_ext" >"$tmp/ca.ext"
printf '%s\n' "$ee_ext" >"$tmp/ee.ext"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyEncipherment\n' >"$tmp/noSig.ext"

# root CAs, one per signature algorithm family of the certificates below
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out creds/root_ec.key
openssl req -x509 -new -key creds/root_ec.key -subj "/CN=Protection Test Root EC" $days -sha256 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out creds/root_ec.crt
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out creds/root_p384.key
openssl req -x509 -new -key creds/root_p384.key -subj "/CN=Protection Test Root P-384" $days -sha384 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out creds/root_p384.crt
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out creds/root_rsa.key
openssl req -x509 -new -key creds/root_rsa.key -subj "/CN=Protection Test Root RSA" $days -sha256 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out creds/root_rsa.crt
openssl genpkey -algorithm ED25519 -out creds/root_ed25519.key
openssl req -x509 -new -key creds/root_ed25519.key -subj "/CN=Protection Test Root Ed25519" $days \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out creds/root_ed25519.crt

# issue NAME KEYFILE SUBJECT CA EXTFILE [x509 signing options...]
issue() {
	name=$1 key=$2 subj=$3 ca=$4 ext=$5
	shift 5
	openssl req -new -key "$key" -subj "$subj" -out "$tmp/$name.csr"
	openssl x509 -req -in "$tmp/$name.csr" -CA "creds/$ca.crt" -CAkey "creds/$ca.key" -CAcreateserial \
		$days -extfile "$tmp/$ext.ext" "$@" -out "creds/$name.crt"
}

# the mock server's signer (responses to signed requests)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out creds/server.key
issue server creds/server.key "/CN=Protection Test Mock Server" root_ec ee -sha256

# request signers, one per key type, all under root_ec
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out creds/signer_rsa.key
issue signer_rsa creds/signer_rsa.key "/CN=signer rsa" root_ec ee -sha256
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out creds/signer_p384.key
issue signer_p384 creds/signer_p384.key "/CN=signer p-384" root_ec ee -sha256
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out creds/signer_p521.key
issue signer_p521 creds/signer_p521.key "/CN=signer p-521" root_ec ee -sha256

# the enrolled key, and certificates for it signed in every way certHash
# distinguishes (RFC 9810 5.3.18, RFC 9481 3.3)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out creds/ee.key
issue ee_ecdsa_sha256 creds/ee.key "/CN=ee" root_ec ee -sha256
issue ee_ecdsa_sha384 creds/ee.key "/CN=ee" root_p384 ee -sha384
issue ee_rsa_sha256 creds/ee.key "/CN=ee" root_rsa ee -sha256
issue ee_rsa_sha512 creds/ee.key "/CN=ee" root_rsa ee -sha512
issue ee_rsa_sha1 creds/ee.key "/CN=ee" root_rsa ee -sha1
issue ee_rsa_pss_sha384 creds/ee.key "/CN=ee" root_rsa ee -sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest
issue ee_ed25519 creds/ee.key "/CN=ee" root_ed25519 ee
rm -f creds/*.srl

# mock NAME RSP_CERT [server options...]: start a bounded mock server
mock() {
	name=$1 rsp=$2
	shift 2
	timeout 60 openssl cmp -port $PORT -max_msgs 4 \
		-srv_cert creds/server.crt -srv_key creds/server.key -srv_trusted creds/root_ec.crt \
		-rsp_cert "creds/$rsp.crt" "$@" >"$tmp/mock_$name.log" 2>&1 &
	SRV_PID=$!
	i=0
	while ! grep -q ACCEPT "$tmp/mock_$name.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || { cat "$tmp/mock_$name.log"; exit 1; }
		sleep 0.1
	done
}

# client NAME [client options...]: one ir transaction, keeping all messages
client() {
	name=$1
	shift
	openssl cmp -cmd ir -server 127.0.0.1:$PORT -path pkix/ -recipient "/CN=Protection Test Root EC" \
		-newkey creds/ee.key -subject /CN=ee -msg_timeout 10 -total_timeout 30 -batch \
		-reqout "msg/${name}_ir.der,msg/${name}_certConf.der" -rspout "msg/${name}_ip.der,msg/${name}_pkiConf.der" \
		-certout "$tmp/$name.crt" "$@"
	kill "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
}

# PasswordBasedMac, both MACs OpenSSL 3.0 offers; the mock answers with PBM too
mock pbm_sha1 ee_ecdsa_sha256 -srv_ref $REF -srv_secret pass:$SECRET
client pbm_sha1 -ref $REF -secret pass:$SECRET
mock pbm_sha256 ee_ecdsa_sha256 -srv_ref $REF -srv_secret pass:$SECRET
client pbm_sha256 -ref $REF -secret pass:$SECRET -mac hmacWithSHA256 -digest sha256

# signature protection with every signer key type; the mock signs its answers.
# OpenSSL 3.0 cmp refuses RSA-PSS and Ed25519 keys for protection
# ("unsupported key type"): RSASSA-PSS is covered by ee_rsa_pss_sha384.crt,
# whose signature is RSASSA-PSS, Ed25519 by the shared GENM_protected_Ed.der.
for s in rsa p384 p521; do
	mock sig_$s ee_ecdsa_sha256
	client sig_$s -cert creds/signer_$s.crt -key creds/signer_$s.key -trusted creds/root_ec.crt
done

# certConf carrying certHash for certificates signed with each algorithm
for c in ecdsa_sha384 rsa_sha256 rsa_sha512 rsa_sha1 rsa_pss_sha384 ed25519; do
	mock certhash_$c ee_$c -srv_ref $REF -srv_secret pass:$SECRET
	client certhash_$c -ref $REF -secret pass:$SECRET
	rm -f "msg/certhash_${c}_ir.der" "msg/certhash_${c}_ip.der" "msg/certhash_${c}_pkiConf.der"
done

# keep only what the tests read: keys of the request signers are needed to
# know the public keys only through their certificates
rm -f creds/*.key
echo "generated with $(openssl version)" >generated-with.txt
