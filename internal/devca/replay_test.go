package devca

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestMessageTime: a messageTime further from the CA's clock than
// MaxTimeSkew is refused with badTime (RFC 9483 3.5); an absent one is
// not checked.
func TestMessageTime(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name    string
		skew    time.Duration // Config.MaxTimeSkew
		offset  time.Duration // messageTime - CA clock
		absent  bool
		badTime bool
	}{
		{name: "absent", absent: true, offset: 0},
		{name: "now", offset: 0},
		{name: "within the default, ahead", offset: 9 * time.Minute},
		{name: "within the default, behind", offset: -9 * time.Minute},
		{name: "beyond the default, behind", offset: -11 * time.Minute, badTime: true},
		{name: "beyond the default, ahead", offset: time.Hour, badTime: true},
		{name: "within a configured tolerance", skew: 2 * time.Hour, offset: time.Hour},
		{name: "beyond a configured tolerance", skew: 30 * time.Second, offset: -time.Minute, badTime: true},
		{name: "check switched off", skew: -1, offset: 48 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := startCA(t, Config{MaxTimeSkew: tc.skew, Now: func() time.Time { return now }})
			m := &cmp.Message{Header: header(rawName(t, "clock")), Body: cmp.Body{Type: cmp.BodyGenM}}
			if !tc.absent {
				m.Header.MessageTime = now.Add(tc.offset)
			}
			ans := c.exchange(t, macProtect(t, m, c.ca.Reference(), c.ca.Secret()))
			body, _, fi := outcome(t, ans)
			if got := body == cmp.BodyError && fi.Has(cmp.FailBadTime); got != tc.badTime {
				t.Fatalf("answer %s %v, want badTime %v", body, fi, tc.badTime)
			}
			if !tc.badTime && body != cmp.BodyGenP {
				t.Fatalf("answer %s %v, want genp", body, fi)
			}
		})
	}
}

// TestCraftedReplay: within a transaction every message needs a fresh
// senderNonce and may not fall back to a lower pvno; a whole request sent
// twice (what a resend on a fresh connection does) is answered once.
func TestCraftedReplay(t *testing.T) {
	c := startCA(t, Config{})
	type started struct {
		req, ip *cmp.Message
		der     []byte
		cert    *x509.Certificate
	}
	start := func(t *testing.T, pvno int) started {
		k := newKey(t)
		req := &cmp.Message{Header: header(rawName(t, "replay")), Body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{certReq(t, "replay", k, k)}}}
		req.Header.PVNO = pvno
		der := macProtect(t, req, c.ca.Reference(), c.ca.Secret())
		ip := c.exchange(t, der)
		if ip.Body.Type != cmp.BodyIP {
			t.Fatalf("ir answered %s", ip.Body.Type)
		}
		cert, err := x509.ParseCertificate(ip.Body.CertRep.Response[0].Certificate)
		if err != nil {
			t.Fatal(err)
		}
		return started{req, ip, der, cert}
	}
	certConf := func(t *testing.T, s started) *cmp.Message {
		hash, err := cmp.CertHash(s.cert)
		if err != nil {
			t.Fatal(err)
		}
		h := header(s.req.Header.Sender.DirectoryName)
		h.TransactionID, h.RecipNonce = s.req.Header.TransactionID, s.ip.Header.SenderNonce
		return &cmp.Message{Header: h, Body: cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{{CertHash: hash}}}}
	}
	tests := []struct {
		name     string
		pvno     int
		send     func(t *testing.T, s started) []byte
		failInfo cmp.FailureInfo // 0: pkiConf expected
	}{
		{"certConf with a fresh senderNonce", cmp.PVNO2, func(t *testing.T, s started) []byte {
			return macProtect(t, certConf(t, s), c.ca.Reference(), c.ca.Secret())
		}, 0},
		{"certConf repeating the ir's senderNonce", cmp.PVNO2, func(t *testing.T, s started) []byte {
			m := certConf(t, s)
			m.Header.SenderNonce = s.req.Header.SenderNonce
			return macProtect(t, m, c.ca.Reference(), c.ca.Secret())
		}, cmp.FailBadSenderNonce},
		{"certConf falling back from pvno 3 to 2", cmp.PVNO3, func(t *testing.T, s started) []byte {
			return macProtect(t, certConf(t, s), c.ca.Reference(), c.ca.Secret())
		}, cmp.FailUnsupportedVersion},
		{"certConf staying at pvno 3", cmp.PVNO3, func(t *testing.T, s started) []byte {
			m := certConf(t, s)
			m.Header.PVNO = cmp.PVNO3
			return macProtect(t, m, c.ca.Reference(), c.ca.Secret())
		}, 0},
		{"the ir again, byte for byte", cmp.PVNO2, func(t *testing.T, s started) []byte { return s.der }, cmp.FailTransactionIDInUse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.pvno)
			issuedBefore, _ := c.ca.store.counts()
			ans := c.exchange(t, tc.send(t, s))
			body, _, fi := outcome(t, ans)
			switch {
			case tc.failInfo == 0 && body != cmp.BodyPKIConf:
				t.Fatalf("answer %s %v, want pkiConf", body, fi)
			case tc.failInfo != 0 && (body != cmp.BodyError || !fi.Has(tc.failInfo)):
				t.Fatalf("answer %s %v, want an error with %v", body, fi, tc.failInfo)
			}
			if issuedAfter, _ := c.ca.store.counts(); issuedAfter != issuedBefore {
				t.Errorf("%d certificates issued by the second message", issuedAfter-issuedBefore)
			}
		})
	}
}

// dropOnce is a handler in front of the CA that, for the n-th request
// (1-based), lets the CA handle it and then closes the connection without
// an answer: a peer that closed a kept-alive connection after reading a
// request. net/http then resends the request on a fresh connection, since
// cmpclient marks its requests as replayable.
type dropOnce struct {
	ca   http.Handler
	n    int
	mu   sync.Mutex
	seen int
}

func (d *dropOnce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.seen++
	drop := d.seen == d.n
	d.mu.Unlock()
	if !drop {
		d.ca.ServeHTTP(w, r)
		return
	}
	d.ca.ServeHTTP(httptest.NewRecorder(), r) // the CA acts on it...
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close() // ...but the answer never leaves
}

// TestResendOnStaleConnection: when a kept-alive connection breaks after
// the CA received a request, cmpclient's transport resends the same bytes
// on a fresh connection. The CA sees the same transactionID and
// senderNonce again and refuses them, so no certificate is issued twice;
// the certificate of the lost answer is revoked when its confirmation wait
// is over.
func TestResendOnStaleConnection(t *testing.T) {
	tests := []struct {
		name string
		// drop is the request whose answer is lost: 1 is the genm that opens
		// the connection, 2 the ir, 3 its certConf.
		drop     int
		failInfo cmp.FailureInfo
		// issued is whether the client ends up holding the certificate.
		issued bool
	}{
		{"ir answer lost", 2, cmp.FailTransactionIDInUse, false},
		{"certConf answer lost", 3, cmp.FailBadRequest, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &movableClock{now: time.Now()}
			c := startCA(t, Config{Now: clock.Now})
			srv := httptest.NewServer(&dropOnce{ca: c.ca, n: tc.drop})
			defer srv.Close()
			cl := &cmpclient.Client{
				URL:          srv.URL + "/.well-known/cmp",
				HTTPClient:   srv.Client(),
				Credentials:  cmpclient.MACCredentials{Reference: c.ca.Reference(), Secret: []byte(c.ca.Secret())},
				TrustAnchors: []*x509.Certificate{c.ca.CACertificate()},
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// The first exchange opens the connection the ir then reuses.
			if _, err := cl.CACerts(ctx); err != nil && tc.drop != 1 {
				t.Fatal(err)
			}
			enr, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "resend"}, Key: newKey(t)})
			var cmpErr *cmpclient.Error
			if !errors.As(err, &cmpErr) || !cmpErr.FailInfo.Has(tc.failInfo) {
				t.Fatalf("enroll: %v; want the CA's refusal of the resent message with %v", err, tc.failInfo)
			}
			if (enr != nil) != tc.issued {
				t.Fatalf("enrollment returned %v, want a certificate: %v", enr != nil, tc.issued)
			}
			irs := 0
			var serial string
			for _, ev := range c.log.all() {
				if ev.Op == "ir" && ev.Status == cmp.StatusAccepted.String() {
					irs++
					serial = ev.Serial
				}
			}
			if issued, _ := c.ca.store.counts(); irs != 1 || issued != 1 {
				t.Fatalf("%d accepted ir events and %d certificates on record, want 1", irs, issued)
			}
			clock.advance(c.ca.cfg.ConfirmWaitTime + time.Second)
			_, revoked, _ := c.ca.Certificate(serial)
			// The certificate of a lost ip was never confirmed: revoked at
			// expiry. One whose certConf arrived stays valid.
			if revoked == tc.issued {
				t.Errorf("revoked %v after the confirmation wait, want %v", revoked, !tc.issued)
			}
		})
	}
}
