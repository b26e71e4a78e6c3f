package devca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/faultproxy"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// faultBench is a CA behind a fault-injecting proxy, both on 127.0.0.1.
type faultBench struct {
	*testCA
	proxy *faultproxy.Proxy
	psrv  *httptest.Server
	// foreignKey and foreignCert sign answers with a certificate that
	// chains to no trust anchor of the client.
	foreignKey  crypto.Signer
	foreignCert *x509.Certificate
	clock       *offsetClock
}

// offsetClock is the CA's clock: the real time plus an offset a test moves
// (requests carry the real time, which the CA checks against its own).
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func newFaultBench(t *testing.T, cfg Config) *faultBench {
	t.Helper()
	clock := &offsetClock{}
	cfg.Now = clock.now
	tc := startCA(t, cfg)
	p := faultproxy.New(tc.ca)
	psrv := httptest.NewServer(p)
	t.Cleanup(psrv.Close)
	foreign := testpki.Issue(t, &x509.Certificate{
		SerialNumber:          big.NewInt(77),
		Subject:               signerSubject, // the CA signer's name, so only trust tells them apart
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          []byte("foreign signer"),
	}, nil, nil)
	return &faultBench{testCA: tc, proxy: p, psrv: psrv, foreignKey: foreign.Key, foreignCert: foreign.Cert, clock: clock}
}

// proxied is a client that talks to the CA through the proxy.
func (b *faultBench) proxied() *cmpclient.Client {
	c := b.client(cmpclient.PBMHMACSHA256)
	c.URL = b.psrv.URL + "/.well-known/cmp"
	c.MessageTimeout = 1500 * time.Millisecond
	return c
}

// reprotect protects an edited answer again the way the CA protected it:
// MAC with the CA's secret, or the CA signer's signature.
func (b *faultBench) reprotect(m *cmp.Message) error {
	if cmp.IsMACProtected(m.Header.ProtectionAlg) {
		return cmp.ProtectMAC(m, cmp.MACParams{Identifier: m.Header.ProtectionAlg}, []byte(b.ca.st.secret))
	}
	return cmp.ProtectSignature(m, b.ca.st.signerKey, []*x509.Certificate{b.ca.st.signerCert, b.ca.st.caCert}, cmp.SignatureOptions{})
}

// wrongMAC protects the answer with a MAC under a secret the client does
// not share.
func (b *faultBench) wrongMAC(m *cmp.Message) error {
	m.ExtraCerts = nil
	return cmp.ProtectMAC(m, cmp.MACParams{Algorithm: cmp.PBMHMACSHA256, Iterations: 1000, Salt: []byte("0123456789abcdef")}, []byte("not the shared secret"))
}

// wrongSignature signs the answer with the CA signer and then alters the
// signature.
func (b *faultBench) wrongSignature(m *cmp.Message) error {
	if err := cmp.ProtectSignature(m, b.ca.st.signerKey, []*x509.Certificate{b.ca.st.signerCert, b.ca.st.caCert}, cmp.SignatureOptions{}); err != nil {
		return err
	}
	m.Protection[len(m.Protection)-1] ^= 0xff
	return nil
}

// untrusted signs the answer correctly with a certificate the client does
// not trust.
func (b *faultBench) untrusted(m *cmp.Message) error {
	m.ExtraCerts = nil
	return cmp.ProtectSignature(m, b.foreignKey, []*x509.Certificate{b.foreignCert}, cmp.SignatureOptions{})
}

// faultOp is one CMP operation under test. prepare runs against the CA
// directly (no faults) and returns the call to make through the proxy.
type faultOp struct {
	name    string // request body type of the first message
	enrolls bool
	prepare func(t *testing.T, b *faultBench) func(ctx context.Context, c *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error)
}

// enrolled gets a certificate and key from the CA directly.
func enrolled(t *testing.T, b *faultBench, cn string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := newKey(t)
	enr, err := b.client(cmpclient.PBMHMACSHA256).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: cn}, Key: key})
	if err != nil {
		t.Fatalf("setup enrollment: %v", err)
	}
	return enr.Certificate, key
}

var faultOps = []faultOp{
	{name: "ir", enrolls: true, prepare: func(t *testing.T, _ *faultBench) func(context.Context, *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
		req := &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "fault ir " + t.Name()}, Key: newKey(t)}
		return func(ctx context.Context, c *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
			enr, err := c.Enroll(ctx, req)
			return enr, nil, err
		}
	}},
	{name: "cr", enrolls: true, prepare: func(t *testing.T, b *faultBench) func(context.Context, *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
		cur, curKey := enrolled(t, b, "fault cr "+t.Name())
		req := &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "fault cr " + t.Name()}, DNSNames: []string{"cr.example"}, Key: newKey(t)}
		return func(ctx context.Context, c *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
			enr, err := c.Certify(ctx, req, cur, curKey)
			return enr, cur, err
		}
	}},
	{name: "kur", enrolls: true, prepare: func(t *testing.T, b *faultBench) func(context.Context, *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
		old, oldKey := enrolled(t, b, "fault kur "+t.Name())
		req := &cmpclient.CertRequest{Key: newKey(t)}
		return func(ctx context.Context, c *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
			enr, err := c.UpdateKey(ctx, req, old, oldKey)
			return enr, old, err
		}
	}},
	{name: "rr", prepare: func(t *testing.T, b *faultBench) func(context.Context, *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
		cert, key := enrolled(t, b, "fault rr "+t.Name())
		return func(ctx context.Context, c *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
			return nil, cert, c.Revoke(ctx, cert, key, cmpclient.ReasonSuperseded)
		}
	}},
	{name: "genm", prepare: func(*testing.T, *faultBench) func(context.Context, *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
		return func(ctx context.Context, c *cmpclient.Client) (*cmpclient.Enrollment, *x509.Certificate, error) {
			certs, err := c.CACerts(ctx)
			if err == nil && len(certs) == 0 {
				err = errors.New("genm: no CA certificates")
			}
			return nil, nil, err
		}
	}},
}

// faultCase is one fault applied to one operation.
type faultCase struct {
	name string
	// rule breaks the exchange; On "" means the operation's first request.
	rule faultproxy.Rule
	// refused sends the request to a port nobody listens on instead.
	refused bool
	// cfg changes the CA's configuration (policies, fault modes).
	cfg func(*Config)
	// enrollOnly: the fault needs a certConf or polling step.
	enrollOnly bool
	// ok: the client is expected to get through (the fault is survivable).
	ok bool
	// want matches the error text: the cause, named.
	want string
	// unconfirmed: the fault hits after the certificate arrived, so the
	// client must return it with an *UnconfirmedError.
	unconfirmed bool
	// timeout of the whole operation (default 10s).
	timeout time.Duration
}

// commonFailInfos are the PKIFailureInfo bits a CA commonly answers with.
var commonFailInfos = []cmp.FailureInfo{
	cmp.FailBadAlg, cmp.FailBadMessageCheck, cmp.FailBadRequest, cmp.FailBadTime, cmp.FailBadCertID,
	cmp.FailBadDataFormat, cmp.FailWrongAuthority, cmp.FailIncorrectData, cmp.FailBadPOP, cmp.FailCertRevoked,
	cmp.FailWrongIntegrity, cmp.FailBadRecipientNonce, cmp.FailBadSenderNonce, cmp.FailBadCertTemplate,
	cmp.FailSignerNotTrusted, cmp.FailTransactionIDInUse, cmp.FailUnsupportedVersion, cmp.FailNotAuthorized,
	cmp.FailSystemUnavail, cmp.FailSystemFailure, cmp.FailDuplicateCertReq,
}

// rejectWith turns the CA's answer into a properly protected refusal with
// the failure bit: an error message, or for rr a rejection in rp.
func rejectWith(b *faultBench, fi cmp.FailureInfo) func(m *cmp.Message) error {
	return func(m *cmp.Message) error {
		si := cmp.PKIStatusInfo{Status: cmp.StatusRejection, FailInfo: fi, HasFailInfo: true, StatusString: []string{"refused by the fault proxy"}}
		if m.Body.Type == cmp.BodyRP {
			m.Body.RevRep = &cmp.RevRepContent{Status: []cmp.PKIStatusInfo{si}}
		} else {
			m.Body = cmp.Body{Type: cmp.BodyError, Error: &cmp.ErrorMsgContent{Status: si}}
		}
		return b.reprotect(m)
	}
}

// faultCases lists the faults; b supplies keys for the rewriting ones.
func faultCases(b *faultBench) []faultCase {
	cases := []faultCase{
		{name: "connection_refused", refused: true, want: `connection refused`},
		{name: "reset_mid_response", rule: faultproxy.Rule{Fault: faultproxy.Reset()}, want: `connection reset by peer|unexpected EOF`},
		{name: "closed_before_answer", rule: faultproxy.Rule{Fault: faultproxy.Refuse()}, want: `EOF|connection reset by peer`},
		{name: "slower_than_timeout", rule: faultproxy.Rule{Fault: faultproxy.Delay(time.Minute)}, want: `no (complete )?answer within the message timeout 1.5s`},
		{name: "http_500", rule: faultproxy.Rule{Fault: faultproxy.HTTPStatus(500, "", false)}, want: `HTTP 500 Internal Server Error: faultproxy`},
		{name: "http_500_retry_after", rule: faultproxy.Rule{Fault: faultproxy.HTTPStatus(500, "1", false)}, want: `HTTP 500 Internal Server Error`},
		{name: "http_503", rule: faultproxy.Rule{Fault: faultproxy.HTTPStatus(503, "", true)}, want: `HTTP 503 Service Unavailable`},
		{name: "http_503_retry_after_once", rule: faultproxy.Rule{Times: 1, Fault: faultproxy.HTTPStatus(503, "1", true)}, ok: true},
		{name: "http_503_retry_after_always", rule: faultproxy.Rule{Fault: faultproxy.HTTPStatus(503, "1", true)}, timeout: 3 * time.Second, want: `HTTP 503 Service Unavailable: server busy, Retry-After 1s is past the deadline`},
		{name: "http_503_retry_after_too_long", rule: faultproxy.Rule{Fault: faultproxy.HTTPStatus(503, "86400", true)}, want: `Retry-After 24h0m0s is longer than`},
		{name: "content_type_html", rule: faultproxy.Rule{Fault: faultproxy.ContentType("text/html")}, want: `wrong Content-Type: HTTP 200 with Content-Type "text/html"`},
		{name: "truncated_der", rule: faultproxy.Rule{Fault: faultproxy.Truncate()}, want: `malformed CMP message`},
		{name: "garbage_der", rule: faultproxy.Rule{Fault: faultproxy.Garbage()}, want: `malformed CMP message`},
		{name: "other_transaction", rule: faultproxy.Rule{Fault: faultproxy.OtherTransaction()}, want: `transactionID does not match the request`},
		{name: "replayed_earlier_response", rule: faultproxy.Rule{Fault: faultproxy.ReplayPrevious()}, want: `transactionID does not match the request`},
		{name: "wrong_mac", rule: faultproxy.Rule{Fault: faultproxy.Rewrite("wrong MAC", b.wrongMAC)}, want: `protection does not verify`},
		{name: "wrong_signature", rule: faultproxy.Rule{Fault: faultproxy.Rewrite("wrong signature", b.wrongSignature)}, want: `protection does not verify`},
		{name: "untrusted_signer", rule: faultproxy.Rule{Fault: faultproxy.Rewrite("untrusted signer", b.untrusted)}, want: `response signer is not trusted`},
		{name: "unprotected_answer", rule: faultproxy.Rule{Fault: faultproxy.Rewrite("protection removed", func(m *cmp.Message) error {
			m.Header.ProtectionAlg, m.Protection = nil, nil
			return nil
		})}, want: `missing protection`},
		{name: "pvno_downgrade", rule: faultproxy.Rule{Fault: faultproxy.Rewrite("pvno 1", func(m *cmp.Message) error {
			m.Header.PVNO = 1
			return b.reprotect(m)
		})}, want: `unsupported pvno 1`},

		// Faults after the certificate arrived: it must come back to the
		// caller with an *UnconfirmedError.
		{name: "replayed_response", enrollOnly: true, unconfirmed: true, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.ReplayPrevious()}, want: `recipNonce does not match`},
		{name: "certconf_reset", enrollOnly: true, unconfirmed: true, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.Reset()}, want: `connection reset by peer|unexpected EOF`},
		{name: "certconf_slow", enrollOnly: true, unconfirmed: true, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.Delay(time.Minute)}, want: `message timeout`},
		{name: "certconf_http_500", enrollOnly: true, unconfirmed: true, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.HTTPStatus(500, "", false)}, want: `HTTP 500`},
		{name: "certconf_garbage", enrollOnly: true, unconfirmed: true, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.Garbage()}, want: `malformed CMP message`},
		{name: "certconf_wrong_mac", enrollOnly: true, unconfirmed: true, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.Rewrite("wrong MAC", b.wrongMAC)}, want: `protection does not verify`},
		{name: "certconf_answered_with_error", enrollOnly: true, unconfirmed: true, cfg: func(c *Config) { c.Faults = []Fault{FaultCertConfError} }, want: `error message: rejection: systemFailure`},
		{name: "certificate_for_another_key", enrollOnly: true, cfg: func(c *Config) { c.Faults = []Fault{FaultWrongCertificate} },
			want: `issued certificate rejected: public key differs from the requested key`},
		{name: "waiting_forever", enrollOnly: true, cfg: func(c *Config) { c.Polls = 1 << 30 }, timeout: 3 * time.Second,
			want: `still processing and asks to poll again in 1s.*deadline exceeded`},
	}
	for _, fi := range commonFailInfos {
		name := fi.Names()[0]
		cases = append(cases, faultCase{
			name: "rejection_" + name,
			rule: faultproxy.Rule{Fault: faultproxy.Rewrite("rejection "+name, rejectWith(b, fi))},
			want: `rejection: ` + name + `: "refused by the fault proxy"`,
		})
	}
	return cases
}

// faultTally counts outcomes across the suite, for the summary line.
type faultTally struct {
	mu                             sync.Mutex
	tried, survived, notApplicable int
	// Certificates the CA issued during a faulted operation: returned to
	// the caller, revoked by the CA (a rejected certConf), or never
	// delivered (the answer carrying it was destroyed; the CA revoked it
	// when its confirmation wait ended).
	kept, revoked, undelivered int
}

func (f *faultTally) count(add func(*faultTally)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	add(f)
}

// TestFaultInjection runs every CMP operation through every fault and
// checks that the error names the cause and that no certificate the client
// received is lost.
func TestFaultInjection(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection suite: skipped with -short")
	}
	var tally faultTally
	// The case list needs a bench for its keys; each case gets its own CA.
	names := faultCases(newFaultBench(t, Config{}))
	// The group returns when its parallel cases (mostly waiting on
	// timeouts) are done.
	t.Run("group", func(t *testing.T) {
		for _, op := range faultOps {
			for i := range names {
				fc := names[i]
				t.Run(op.name+"/"+fc.name, func(t *testing.T) {
					if fc.enrollOnly && !op.enrolls {
						tally.count(func(f *faultTally) { f.notApplicable++ })
						t.Skipf("%s has no certConf or polling step", op.name)
					}
					t.Parallel()
					if op.name == "rr" && fc.name == "rejection_certRevoked" {
						// A revocation answered with certRevoked
						// counts as done (the certificate is revoked).
						fc.ok = true
					}
					var mine faultTally
					runFaultCase(t, op, fc, &mine)
					tally.count(func(f *faultTally) {
						f.tried++
						if !t.Failed() {
							f.survived++
						}
						f.kept += mine.kept
						f.revoked += mine.revoked
						f.undelivered += mine.undelivered
					})
				})
			}
		}
	})
	t.Logf("fault suite: %d operation×fault cases tried, %d with the specified outcome (%d not applicable); certificates issued under faults: %d returned to the caller, %d revoked after the client rejected them, %d never delivered and revoked by the CA when their confirmation wait ended",
		tally.tried, tally.survived, tally.notApplicable, tally.kept, tally.revoked, tally.undelivered)
}

func runFaultCase(t *testing.T, op faultOp, fc faultCase, tally *faultTally) {
	b := newFaultBench(t, Config{})
	// Rebuild the case with this bench's keys.
	for _, c := range faultCases(b) {
		if c.name == fc.name {
			fc.rule = c.rule
		}
	}
	c := b.proxied()

	// A transaction that goes through first, so the replay faults have an
	// answer of another transaction to send.
	warm := op.prepare(t, b)
	if _, _, err := warm(ctxT(t), c); err != nil {
		t.Fatalf("warm-up %s without faults: %v", op.name, err)
	}

	run := op.prepare(t, b)
	if fc.cfg != nil {
		// CA fault modes and policies are switched on after the set-up
		// enrollments, which they would break; no request is in flight.
		fc.cfg(&b.ca.cfg)
	}
	if fc.rule.On == "" {
		fc.rule.On = op.name
	}
	if fc.rule.Fault.Respond != nil {
		b.proxy.Set(fc.rule)
	}
	if fc.refused {
		c.URL = testpki.ClosedURL(t, "/.well-known/cmp")
	}
	from := len(b.log.all())
	timeout := fc.timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	enr, old, err := run(ctx, c)

	if fc.rule.Fault.Respond != nil && b.proxy.Applied() == 0 {
		t.Errorf("the fault %q never applied", fc.rule.Fault.Name)
	}
	if fc.ok {
		if err != nil {
			t.Fatalf("want success despite %q, got %v", fc.rule.Fault.Name, err)
		}
	} else {
		checkFaultError(t, b, op, fc, err)
	}

	// The CA's record agrees: every certificate issued during the faulted
	// operation is in the caller's hands or revoked; one whose answer was
	// destroyed on the way is at least unconfirmed.
	issued := issuedSerials(b.log.all()[from:])
	var pending []string
	for _, serial := range issued {
		_, revoked, found := b.ca.Certificate(serial)
		if !found {
			t.Errorf("serial %s: issued event but not in the CA's record", serial)
			continue
		}
		switch {
		case enr != nil && enr.Certificate != nil && enr.Certificate.SerialNumber.String() == serial:
			tally.kept++
		case revoked:
			tally.revoked++
		case fc.unconfirmed || fc.ok:
			t.Errorf("serial %s: the client received the certificate but returned none (err %v)", serial, err)
		default:
			if confirmed(b.log.all()[from:], serial) {
				t.Errorf("serial %s: confirmed at the CA but not returned to the caller", serial)
			}
			pending = append(pending, serial)
		}
	}
	// A certificate whose answer never reached the client is never
	// confirmed: once the confirmation wait time is over, the CA has
	// revoked it (RFC 9810 5.1.1.2), so nothing stays live unaccounted.
	b.clock.advance(b.ca.cfg.ConfirmWaitTime + time.Minute)
	for _, serial := range pending {
		if _, revoked, _ := b.ca.Certificate(serial); !revoked {
			t.Errorf("serial %s: never delivered, and still live after the confirmation wait time", serial)
			continue
		}
		tally.undelivered++
	}
	if fc.unconfirmed && len(issued) != 1 {
		t.Errorf("want one certificate issued before the fault, the CA issued %d", len(issued))
	}
	if fc.unconfirmed {
		var ue *cmpclient.UnconfirmedError
		if !errors.As(err, &ue) || enr == nil || enr.Certificate == nil {
			t.Errorf("want the certificate back with an *UnconfirmedError, got enrollment %v, error %v", enr != nil, err)
		}
	}
	// A failed cr or kur leaves the certificate it was signed with usable.
	if old != nil && op.name != "rr" && err != nil {
		if _, revoked, _ := b.ca.Certificate(old.SerialNumber.String()); revoked {
			t.Errorf("the failed %s revoked the old certificate %s", op.name, old.SerialNumber)
		}
	}
}

// checkFaultError asserts that err names the cause and the transaction.
func checkFaultError(t *testing.T, b *faultBench, op faultOp, fc faultCase, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error for %s, got success", fc.name)
	}
	msg := err.Error()
	if !regexp.MustCompile(fc.want).MatchString(msg) {
		t.Errorf("error does not name the cause %q:\n%v", fc.want, msg)
	}
	if !strings.HasPrefix(msg, "cmp "+op.name) {
		t.Errorf("error does not start with the operation %q: %v", op.name, msg)
	}
	// Every error after the request was built names the transaction.
	if !fc.refused && !strings.Contains(msg, "(transaction ") {
		t.Errorf("error does not name the transaction ID: %v", msg)
	}
	if strings.Contains(msg, b.ca.Secret()) {
		t.Errorf("error contains the shared secret: %v", msg)
	}
}

// issuedSerials returns the serials of certificates issued in events.
func issuedSerials(events []Event) []string {
	var out []string
	for _, e := range events {
		if (e.Op == "ir" || e.Op == "cr" || e.Op == "kur" || e.Op == "pollReq") && e.Serial != "" &&
			(e.Status == cmp.StatusAccepted.String() || e.Status == cmp.StatusGrantedWithMods.String()) {
			out = append(out, e.Serial)
		}
	}
	return out
}

// confirmed reports whether a certConf accepted the serial.
func confirmed(events []Event, serial string) bool {
	for _, e := range events {
		if e.Op == "certConf" && e.Serial == serial && e.Status == "confirmed" {
			return true
		}
	}
	return false
}
