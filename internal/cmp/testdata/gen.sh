#!/bin/sh
# Regenerates the golden CMP messages in golden/ and the test-only credentials
# in creds/ with OpenSSL 3.0's `openssl cmp` (client and mock server).
# See README.md. Tests never run this; they read the committed files.
#
# The mock server listens on every interface, so the whole run happens in a
# private network namespace (only loopback exists there). Needs root for
# `unshare -n`. Every server is bounded by `timeout` and -max_msgs and is
# stopped by its own PID.
set -eu

if [ -z "${CMP_GEN_IN_NETNS:-}" ]; then
	exec unshare -n env CMP_GEN_IN_NETNS=1 sh -c 'ip link set lo up && exec sh "$0" "$@"' "$0" "$@"
fi

cd "$(dirname "$0")"
C=creds
G=golden
W=$(mktemp -d)
SRV_PID=
# On any exit, stop the running mock server (by its PID) before cleaning up.
trap 'if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi; rm -rf "$W"' EXIT
rm -rf "$C" "$G"
mkdir -p "$C" "$G"

# ---- credentials -----------------------------------------------------------
days=7300
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ec $C/root.key
openssl req -x509 -new -key $C/root.key -subj "/CN=Test CMP Root CA" -days $days -sha256 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out $C/root.crt

# issue NAME KEYFILE SUBJECT EXTENSIONS: a certificate for KEYFILE signed by the root
issue() {
	printf '%s\n' "$4" >"$W/$1.ext"
	openssl req -new -key "$2" -subj "$3" -out "$W/$1.csr"
	openssl x509 -req -in "$W/$1.csr" -CA $C/root.crt -CAkey $C/root.key -days $days -sha256 \
		-set_serial "$5" -extfile "$W/$1.ext" -out "$C/$1.crt" 2>/dev/null
}
leaf="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"

ec $C/server.key
issue server $C/server.key "/CN=Mock CMP Server" "$leaf" 0x1001
ec $C/client1.key
issue client1 $C/client1.key "/CN=client1" "$leaf" 0x2001
ec $C/client2.key
issue client2 $C/client2.key "/CN=client1" "$leaf" 0x2002
# Externally issued signer for a signature-protected ir (RSA), and an Ed25519
# key whose certificate the mock returns for an ir with an Ed25519 POP.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $C/rsa.key 2>/dev/null
issue rsa $C/rsa.key "/O=Test Devices/CN=RSA Device" "$leaf" 0x3001
openssl genpkey -algorithm ED25519 -out $C/ed25519.key
issue ed25519 $C/ed25519.key "/O=Test Devices/CN=Ed25519 Device" "$leaf" 0x3002
openssl req -new -key $C/client1.key -subj "/CN=client1" -out $C/client1.csr.pem
openssl req -in $C/client1.csr.pem -outform DER -out $C/client1.csr.der

# ---- mock servers ----------------------------------------------------------
SRV_N=0
PORT=
# start_server MAXMSGS ARGS...: start a mock server, set SRV_PID and PORT.
# Each server writes its own output file: the background job opens it
# asynchronously, so a shared file could still show the previous server's port.
start_server() {
	max=$1
	shift
	SRV_N=$((SRV_N + 1))
	out="$W/srv.$SRV_N.out"
	timeout 120 openssl cmp -port 0 -max_msgs "$max" \
		-srv_cert $C/server.crt -srv_key $C/server.key -srv_trusted $C/root.crt \
		-rsp_extracerts $C/root.crt "$@" >"$out" 2>"$W/srv.err" &
	SRV_PID=$!
	i=0
	PORT=
	while [ $i -lt 100 ] && [ -z "$PORT" ]; do
		PORT=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\) PID=.*/\1/p' "$out" 2>/dev/null) || true
		[ -n "$PORT" ] || sleep 0.1
		i=$((i + 1))
	done
	[ -n "$PORT" ] || { echo "mock server did not start" >&2; cat "$W/srv.err" >&2; exit 1; }
}
stop_server() {
	kill "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	SRV_PID=
}
# client EXPECTED_RC EXPECTED_STDERR ARGS...: run the openssl cmp client
# against the server; EXPECTED_STDERR (a fixed string, may be empty) must
# appear in its output, so an expected failure fails for the expected reason.
client() {
	want=$1
	expect=$2
	shift 2
	rc=0
	timeout 60 openssl cmp -server "127.0.0.1:$PORT" -path pkix/ -recipient "/CN=Test CMP Root CA" \
		-msg_timeout 10 -total_timeout 30 -batch -certout "$W/cert.pem" "$@" >"$W/cli.out" 2>"$W/cli.err" || rc=$?
	if [ "$rc" != "$want" ] || ! grep -qF -e "$expect" "$W/cli.err" "$W/cli.out"; then
		echo "client exit $rc, want $want with \"$expect\": $*" >&2
		cat "$W/cli.err" "$W/cli.out" >&2; cat "$W/srv.err" >&2
		stop_server
		exit 1
	fi
}
PBM="-ref 1234 -secret pass:test"
pbm_server() {
	n=$1
	shift
	start_server "$n" -srv_ref 1234 -srv_secret pass:test -rsp_cert $C/client1.crt -rsp_capubs $C/root.crt \
		-accept_raverified "$@"
}

# Server A: PBM and signatures; returns client1.crt.
pbm_server 40
client 0 "" -cmd ir $PBM -newkey $C/client1.key -subject "/CN=client1" -out_trusted $C/root.crt \
	-reqout "$G/ir_pbm_sha1.der $G/certConf_pbm_sha1.der" -rspout "$G/ip_pbm_sha1.der $G/pkiConf_pbm_sha1.der"
client 0 "" -cmd ir $PBM -mac hmacWithSHA256 -digest sha256 -newkey $C/client1.key -subject "/CN=client1" \
	-out_trusted $C/root.crt \
	-reqout "$G/ir_pbm_sha256.der $G/certConf_pbm_sha256.der" -rspout "$G/ip_pbm_sha256.der $G/pkiConf_pbm_sha256.der"
client 0 "" -cmd ir -cert $C/rsa.crt -key $C/rsa.key -trusted $C/root.crt -newkey $C/client1.key -subject "/CN=client1" \
	-reqout "$G/ir_sig_rsa.der $G/certConf_sig_rsa.der" -rspout "$G/ip_sig_rsa.der $G/pkiConf_sig_rsa.der"
client 0 "" -cmd cr -cert $C/client1.crt -key $C/client1.key -trusted $C/root.crt -newkey $C/client1.key \
	-subject "/CN=client1" \
	-reqout "$G/cr.der $G/certConf_cr.der" -rspout "$G/cp.der $G/pkiConf_cr.der"
client 0 "" -cmd p10cr $PBM -csr $C/client1.csr.pem -out_trusted $C/root.crt \
	-reqout "$G/p10cr.der $G/certConf_p10cr.der" -rspout "$G/cp_p10cr.der $G/pkiConf_p10cr.der"
# Template with requested validity, SANs and policies; and a raVerified POP.
client 0 "" -cmd ir $PBM -newkey $C/client1.key -subject "/CN=client1" -out_trusted $C/root.crt \
	-days 365 -sans "client1.example 127.0.0.1 https://client1.example/" -policy_oids 1.2.3.4 \
	-reqout "$G/ir_template.der $G/certConf_template.der" -rspout "$G/ip_template.der $G/pkiConf_template.der"
client 0 "" -cmd ir $PBM -newkey $C/client1.key -subject "/CN=client1" -out_trusted $C/root.crt -popo 0 \
	-reqout "$G/ir_raverified.der $G/certConf_raverified.der" -rspout "$G/ip_raverified.der $G/pkiConf_raverified.der"
client 0 "" -cmd genm $PBM -infotype signKeyPairTypes -reqout $G/genm_signKeyPairTypes.der -rspout $G/genp_signKeyPairTypes.der
client 0 "" -cmd genm $PBM -infotype caCerts -reqout $G/genm_caCerts.der -rspout $G/genp_caCerts.der
client 0 "" -cmd rr $PBM -oldcert $C/client1.crt -revreason 1 -reqout $G/rr_pbm.der -rspout $G/rp_pbm.der
stop_server

# Server B: signatures only; returns client2.crt (3.0 checks oldCertID against it).
start_server 20 -rsp_cert $C/client2.crt
client 0 "" -cmd kur -cert $C/client1.crt -key $C/client1.key -trusted $C/root.crt \
	-oldcert $C/client2.crt -newkey $C/client2.key \
	-reqout "$G/kur.der $G/certConf_kur.der" -rspout "$G/kup.der $G/pkiConf_kur.der"
client 0 "" -cmd rr -cert $C/client2.crt -key $C/client2.key -trusted $C/root.crt -oldcert $C/client2.crt \
	-revreason 4 -reqout $G/rr_sig.der -rspout $G/rp_sig.der
stop_server

# Ed25519 new key (POP signed with Ed25519). OpenSSL 3.0 cannot protect a
# message with an Ed25519 key ("unsupported key type": it always pairs the
# key with a digest), so this ir is PBM-protected.
start_server 10 -srv_ref 1234 -srv_secret pass:test -rsp_cert $C/ed25519.crt
client 0 "" -cmd ir $PBM -newkey $C/ed25519.key -subject "/O=Test Devices/CN=Ed25519 Device" -out_trusted $C/root.crt \
	-reqout "$G/ir_pop_ed25519.der $G/certConf_ed25519.der" -rspout "$G/ip_ed25519.der $G/pkiConf_ed25519.der"
stop_server

# Polling: two pollRep before the certificate.
pbm_server 20 -poll_count 2 -check_after 1
client 0 "" -cmd ir $PBM -newkey $C/client1.key -subject "/CN=client1" -out_trusted $C/root.crt \
	-reqout "$G/ir_poll.der $G/pollReq_1.der $G/pollReq_2.der $G/certConf_poll.der" \
	-rspout "$G/ip_waiting.der $G/pollRep_1.der $G/ip_after_poll.der $G/pkiConf_poll.der"
stop_server

# Implicit confirmation granted: ir/ip only.
pbm_server 10 -grant_implicitconf
client 0 "" -cmd ir $PBM -implicit_confirm -newkey $C/client1.key -subject "/CN=client1" -out_trusted $C/root.crt \
	-reqout $G/ir_implicit.der -rspout $G/ip_implicit.der
stop_server

# Rejection with one failure bit and a status string.
pbm_server 10 -pkistatus 2 -failure 2 -statusstring "mock says no"
client 1 "mock says no" -cmd ir $PBM -newkey $C/client1.key -subject "/CN=client1" -out_trusted $C/root.crt \
	-reqout $G/ir_rejected.der -rspout $G/ip_rejection.der
stop_server

# Rejection with several failure bits: badPOP (9), badRequest (2), duplicateCertReq (26).
pbm_server 10 -pkistatus 2 -failurebits 67109380
client 1 "duplicateCertReq" -cmd ir $PBM -newkey $C/client1.key -subject "/CN=client1" -out_trusted $C/root.crt \
	-reqout $G/ir_rejected_bits.der -rspout $G/ip_rejection_bits.der
stop_server

# Error message.
pbm_server 10 -send_error
client 1 "error processing message" -cmd ir $PBM -newkey $C/client1.key -subject "/CN=client1" -out_trusted $C/root.crt \
	-reqout $G/ir_error.der -rspout $G/error.der
stop_server

# Every exchange must have left its messages.
for f in ir_pbm_sha1 ip_pbm_sha1 certConf_pbm_sha1 pkiConf_pbm_sha1 ir_pbm_sha256 ip_pbm_sha256 \
	certConf_pbm_sha256 pkiConf_pbm_sha256 ir_sig_rsa ip_sig_rsa certConf_sig_rsa pkiConf_sig_rsa \
	ir_pop_ed25519 ip_ed25519 certConf_ed25519 pkiConf_ed25519 cr cp certConf_cr pkiConf_cr \
	ir_template ip_template certConf_template pkiConf_template \
	ir_raverified ip_raverified certConf_raverified pkiConf_raverified \
	kur kup certConf_kur pkiConf_kur p10cr cp_p10cr certConf_p10cr pkiConf_p10cr rr_pbm rp_pbm \
	rr_sig rp_sig genm_caCerts genp_caCerts genm_signKeyPairTypes genp_signKeyPairTypes \
	ir_poll ip_waiting pollReq_1 pollRep_1 pollReq_2 ip_after_poll certConf_poll pkiConf_poll \
	ir_implicit ip_implicit ir_rejected ip_rejection ir_rejected_bits ip_rejection_bits ir_error error; do
	[ -s "$G/$f.der" ] || { echo "missing $G/$f.der" >&2; exit 1; }
done
ls -l $G
