package devca

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
)

const commandUsage = `Usage: terraform-provider-cmpv2 devca [flags]   (or: go run . devca, make devca)

Runs a CMP (RFC 4210/9810, RFC 9483 profile) certificate authority in the
foreground until SIGINT or SIGTERM. It is a DEVELOPMENT CA: its keys sit
unencrypted in its state directory and it issues what it is asked for. Do not
use it for anything that matters.

It serves CMP over HTTP (RFC 6712) at /.well-known/cmp,
/.well-known/cmp/p/<profile> and /. Every request must be protected: with the
PBM credential (reference + secret, PasswordBasedMac or PBMAC1), or with a
signature by a certificate of this CA or, for ir and p10cr, by a certificate
that chains to a -trust anchor. A kur or rr under the PBM credential may name
only a certificate enrolled under the same reference.
It issues end-entity certificates with the subject, subjectAltName, keyUsage,
extendedKeyUsage and certificatePolicies asked for, criticality included.
An rr with reason removeFromCRL (RFC 5280: delta CRLs only) is refused.
Every answer carries Content-Length, so HTTP/1.0 keep-alive clients (OpenSSL's
-keep_alive 2) keep their connection.

With -tls it serves HTTPS with a server certificate it issues itself (trust
ca.crt), optionally requiring client certificates of this CA; -basic-auth adds
HTTP basic authentication on top of CMP protection.

When ready it prints one JSON line to standard output:
  {"url":..., "reference":..., "secret":..., "ca_certificate_file":..., ...}
then one JSON line per handled message:
  {"op":"ir|cr|kur|p10cr|rr|genm|certConf|pollReq|error", "transaction_id":HEX,
   "status":..., "serial":DECIMAL, "subject":..., "fail_info":[...], ...}

State directory (-dir), created on first start and reused afterwards:
  ca.key, ca.crt        root CA key (PKCS#8 PEM) and certificate; created
                        unless you put your own CA key and certificate there
                        (ca.crt may go on with the CA's issuers, nearest first)
  signer.key, signer.crt  CMP signer (digitalSignature) that signs responses
                        to signature-protected requests; re-made when the CA
                        changes or it is about to expire
  pbm.json              PBM credential {"reference":..., "secret":...} (0600)
  certs.jsonl           every certificate issued and revoked, one JSON record
                        per line, synced before the answer is sent; replayed
                        on start

Flags:
`

// Main runs the `devca` command with the arguments that follow the
// subcommand name and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr)
}

// run is Main with the stop signal as a context, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen     = fs.String("listen", "127.0.0.1:8829", "`address` to listen on (port 0 picks a free port); loopback unless you say otherwise")
		dir        = fs.String("dir", ".devca", "state `directory`")
		reference  = fs.String("reference", "", "PBM reference for this run (default: the one stored in the state directory)")
		secret     = fs.String("secret", "", "PBM secret for this run (default: the one stored in the state directory); prefer env DEVCA_SECRET")
		trust      = fs.String("trust", "", "PEM `file` of trust anchors for ir/p10cr signed by an externally issued certificate (under -emulate vault also for TLS client certificates)")
		rejectDup  = fs.Bool("reject-duplicate-ir", false, "refuse ir/p10cr for a subject that holds a live certificate (duplicateCertReq)")
		maxValid   = fs.Duration("max-validity", defaultMaxValidity, "longest validity granted (Go duration, e.g. 8760h or 90s)")
		defValid   = fs.Duration("default-validity", 0, "validity granted when the request names none (default 2160h, capped by -max-validity)")
		implicit   = fs.Bool("implicit-confirm", false, "grant implicit confirmation to clients that ask for it")
		polls      = fs.Int("poll", 0, "answer each enrollment with `N` waiting statuses (ip/cp/kup waiting, then pollRep) before delivering")
		checkAfter = fs.Duration("check-after", defaultCheckAfter, "checkAfter sent while polling")
		confWait   = fs.Duration("confirm-wait", defaultConfirmWaitTime, "how long a delivered certificate waits for certConf before the CA revokes it")
		timeSkew   = fs.Duration("max-time-skew", defaultMaxTimeSkew, "largest accepted difference between a request's messageTime and the CA's clock (badTime); negative: not checked")
		useTLS     = fs.Bool("tls", false, "serve HTTPS with a server certificate the CA issues itself for the listen address and loopback names")
		clientAuth = fs.Bool("tls-require-client-cert", false, "with -tls: require a client certificate issued by this CA (mutual TLS)")
		basicAuth  = fs.String("basic-auth", "", "require HTTP basic authentication `user:password` on every request (default: env DEVCA_BASIC_AUTH)")
		emulate    = fs.String("emulate", "", "answer as `CA` does: vault (Vault Enterprise) or mtg (MTG CLM); see Emulations below")
		newRoot    = fs.Bool("announce-new-root", false, "announce a successor of the root CA (made at start, in memory) in answers to genm rootCaCert: rootCaKeyUpdate with its link certificates")
		template   = fs.String("template", "", "answer genm certReqTemplate with this `template`: \"keys=ec-p384 rsa-3072; subject=O=Example,C=DE\" (key types ec-p256, ec-p384, ec-p521, ed25519, rsa-BITS, preferred first; subject CN, O, OU, C, ST, L)")
		faults     = fs.String("fault", "", "comma-separated misbehaviours for client tests: "+strings.Join(faultNames(), ", "))
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, commandUsage)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nEmulations (-emulate):")
		for _, e := range []Emulation{EmulateVault, EmulateMTG} {
			fmt.Fprintf(stderr, "  %-6s %s\n", e, emulationHelp[e])
		}
		fmt.Fprintln(stderr, "\nFaults:")
		for _, name := range faultNames() {
			fmt.Fprintf(stderr, "  %-22s %s\n", name, faultHelp[Fault(name)])
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "devca: unexpected arguments: %q\n", fs.Args())
		return 2
	}
	if *secret == "" {
		*secret = os.Getenv("DEVCA_SECRET")
	}
	faultList, err := ParseFaults(*faults)
	if err != nil {
		fmt.Fprintf(stderr, "devca: -fault: %v\n", err)
		return 2
	}
	if *basicAuth == "" {
		*basicAuth = os.Getenv("DEVCA_BASIC_AUTH")
	}
	var user, password string
	if *basicAuth != "" {
		var ok bool
		if user, password, ok = strings.Cut(*basicAuth, ":"); !ok || user == "" {
			fmt.Fprintln(stderr, "devca: -basic-auth wants user:password")
			return 2
		}
	}
	emulation, err := ParseEmulation(*emulate)
	if err != nil {
		fmt.Fprintf(stderr, "devca: -emulate: %v\n", err)
		return 2
	}
	if emulation == EmulateVault {
		// Vault serves CMP over HTTPS only, to clients with a certificate.
		*useTLS, *clientAuth = true, true
	}
	if *clientAuth && !*useTLS {
		fmt.Fprintln(stderr, "devca: -tls-require-client-cert needs -tls")
		return 2
	}
	cfg := Config{
		Username:          user,
		Password:          password,
		Dir:               *dir,
		Reference:         *reference,
		Secret:            *secret,
		RejectDuplicateIR: *rejectDup,
		MaxValidity:       *maxValid,
		DefaultValidity:   *defValid,
		ImplicitConfirm:   *implicit,
		Polls:             *polls,
		CheckAfter:        *checkAfter,
		ConfirmWaitTime:   *confWait,
		MaxTimeSkew:       *timeSkew,
		Faults:            faultList,
		Emulate:           emulation,
		AnnounceNewRoot:   *newRoot,
	}
	if *template != "" {
		if cfg.RequestTemplate, err = ParseRequestTemplate(*template); err != nil {
			fmt.Fprintf(stderr, "devca: -template: %v\n", err)
			return 2
		}
	}
	if *trust != "" {
		if cfg.Trusted, err = readCertificates(*trust); err != nil {
			fmt.Fprintf(stderr, "devca: -trust: %v\n", err)
			return 2
		}
	}
	out := &jsonLines{w: stdout}
	cfg.Events = func(e Event) { out.write(e) }

	ca, err := New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "devca: %v\n", err)
		return 1
	}
	defer ca.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "devca: %v\n", err)
		return 1
	}
	srv := &http.Server{
		Handler:           ca,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	addr := ln.Addr().String()
	scheme := "http"
	if *useTLS {
		if srv.TLSConfig, err = ca.ServerTLSConfig(*clientAuth, tlsHosts(addr)...); err != nil {
			ln.Close()
			fmt.Fprintf(stderr, "devca: %v\n", err)
			return 1
		}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	absDir, _ := filepath.Abs(cfg.Dir)
	fmt.Fprintf(stderr, "devca: DEVELOPMENT CA, NOT FOR PRODUCTION USE: keys are stored unencrypted in %s\n", absDir)
	if host, _, _ := net.SplitHostPort(addr); !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(stderr, "devca: WARNING: listening on %s, which is not a loopback address\n", addr)
	}
	url := scheme + "://" + addr + emulation.endpointPath()
	if emulation != EmulateNone {
		fmt.Fprintf(stderr, "devca: emulating %s\n", emulationHelp[emulation])
	}
	fmt.Fprintf(stderr, "devca: serving CMP at %s (reference %s); stop with Ctrl-C\n", url, ca.Reference())
	out.write(Ready{
		URL:                   url,
		Emulate:               string(emulation),
		Reference:             ca.Reference(),
		Secret:                ca.Secret(),
		CACertificateFile:     ca.CACertificateFile(),
		SignerCertificateFile: ca.SignerCertificateFile(),
		CACertificatePEM:      string(pemkey.EncodeCertificates(ca.CACertificate().Raw)),
		Dir:                   absDir,
		Listen:                addr,
		Development:           true,
	})

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "devca: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "devca: stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "devca: shutdown: %v\n", err)
		return 1
	}
	return 0
}
