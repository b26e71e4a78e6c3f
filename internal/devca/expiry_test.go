package devca

import (
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// movableClock is a clock tests advance by hand.
type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *movableClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestUnconfirmedCertificateExpires: a certificate whose certConf does not
// arrive within the confirmation wait time is revoked and recorded (RFC 9810
// 5.1.1.2, RFC 9483 4.1.1); the deadline is announced in the ip.
func TestUnconfirmedCertificateExpires(t *testing.T) {
	const wait = 2 * time.Minute
	tests := []struct {
		name string
		// implicit asks for (and the CA grants) implicit confirmation.
		implicit bool
		// confirmAfter sends certConf after this much time; 0: never.
		confirmAfter time.Duration
		// sweep is how the expiry is noticed: "request" (the next message
		// of any client) or "lookup" (CA.Certificate).
		sweep       string
		wantRevoked bool
		wantConf    cmp.BodyType // answer to the certConf, when sent
	}{
		{name: "never confirmed, noticed by the next request", sweep: "request", wantRevoked: true},
		{name: "never confirmed, noticed by a lookup", sweep: "lookup", wantRevoked: true},
		{name: "confirmed in time", confirmAfter: wait - time.Second, sweep: "lookup", wantConf: cmp.BodyPKIConf},
		{name: "confirmed too late", confirmAfter: wait + time.Second, sweep: "lookup", wantRevoked: true, wantConf: cmp.BodyError},
		{name: "implicitly confirmed", implicit: true, sweep: "lookup"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &movableClock{now: time.Now()}
			c := startCA(t, Config{Now: clock.Now, ConfirmWaitTime: wait, ImplicitConfirm: true})
			k := newKey(t)
			req := &cmp.Message{Header: header(rawName(t, "expiry")), Body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{certReq(t, "expiry", k, k)}}}
			if tc.implicit {
				req.Header.GeneralInfo = []cmp.InfoTypeAndValue{cmp.ImplicitConfirmITAV()}
			}
			ip := c.exchange(t, macProtect(t, req, c.ca.Reference(), c.ca.Secret()))
			if ip.Body.Type != cmp.BodyIP {
				t.Fatalf("ir answered %s", ip.Body.Type)
			}
			cert, err := x509.ParseCertificate(ip.Body.CertRep.Response[0].Certificate)
			if err != nil {
				t.Fatal(err)
			}
			announced := cmp.FindITAV(ip.Header.GeneralInfo, cmp.OIDConfirmWaitTime)
			switch {
			case tc.implicit && announced != nil:
				t.Errorf("an implicitly confirmed ip announces a confirmWaitTime")
			case !tc.implicit && announced == nil:
				t.Errorf("the ip does not announce confirmWaitTime")
			case !tc.implicit:
				deadline, err := cmp.ParseConfirmWaitTime(announced.Value)
				if err != nil {
					t.Fatal(err)
				}
				if want := clock.Now().Add(wait).UTC().Truncate(time.Second); !deadline.Equal(want) {
					t.Errorf("confirmWaitTime %s, want %s", deadline, want)
				}
			}

			if tc.confirmAfter > 0 {
				clock.advance(tc.confirmAfter)
				hash, err := cmp.CertHash(cert)
				if err != nil {
					t.Fatal(err)
				}
				h := header(req.Header.Sender.DirectoryName)
				h.TransactionID, h.RecipNonce = req.Header.TransactionID, ip.Header.SenderNonce
				conf := &cmp.Message{Header: h, Body: cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{{CertHash: hash}}}}
				if ans := c.exchange(t, macProtect(t, conf, c.ca.Reference(), c.ca.Secret())); ans.Body.Type != tc.wantConf {
					t.Errorf("certConf answered %s, want %s", ans.Body.Type, tc.wantConf)
				}
			}
			// Well within the wait nothing happens.
			if _, revoked, _ := c.ca.Certificate(cert.SerialNumber.String()); revoked && tc.confirmAfter < wait {
				t.Fatalf("revoked before the confirmation wait was over")
			}
			clock.advance(wait + time.Minute)

			var revoked bool
			switch tc.sweep {
			case "request":
				genm := &cmp.Message{Header: header(rawName(t, "someone else")), Body: cmp.Body{Type: cmp.BodyGenM}}
				c.exchange(t, macProtect(t, genm, c.ca.Reference(), c.ca.Secret()))
				rec, _ := c.ca.store.lookup(cert.SerialNumber)
				revoked = rec.revoked
				if revoked && rec.reason != int(cmp.ReasonCessationOfOperation) {
					t.Errorf("revocation reason %d, want cessationOfOperation", rec.reason)
				}
			case "lookup":
				_, revoked, _ = c.ca.Certificate(cert.SerialNumber.String())
			}
			if revoked != tc.wantRevoked {
				t.Fatalf("revoked %v, want %v", revoked, tc.wantRevoked)
			}
			expired := 0
			for _, ev := range c.log.all() {
				if ev.Op == "certConf" && ev.Status == "expired" && ev.Serial == cert.SerialNumber.String() {
					expired++
				}
			}
			if want := tc.wantRevoked; (expired == 1) != want || expired > 1 {
				t.Errorf("%d expiry events, want them for a revocation: %v", expired, want)
			}
		})
	}
}

// TestUnconfirmedCertificateRecord: the revocation of an unconfirmed
// certificate is in the record file, so it survives a restart; a CA that
// stops while a certificate awaits its certConf revokes it, since no
// certConf can reach it after the restart.
func TestUnconfirmedCertificateRecord(t *testing.T) {
	tests := []struct {
		name string
		// wait is how long the clock moves before the CA stops.
		wait        time.Duration
		wantStatus  string
		wantRevoked bool
	}{
		{"revoked at expiry", 2 * time.Minute, "no certConf within the confirmation wait time; certificate revoked", true},
		{"revoked when the CA stops", 10 * time.Second, "the CA stopped before the certConf came; certificate revoked", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &movableClock{now: time.Now()}
			dir := t.TempDir()
			c := startCA(t, Config{Dir: dir, Now: clock.Now, ConfirmWaitTime: time.Minute})
			k := newKey(t)
			req := &cmp.Message{Header: header(rawName(t, "record")), Body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{certReq(t, "record", k, k)}}}
			ip := c.exchange(t, macProtect(t, req, c.ca.Reference(), c.ca.Secret()))
			cert, err := x509.ParseCertificate(ip.Body.CertRep.Response[0].Certificate)
			if err != nil {
				t.Fatal(err)
			}
			clock.advance(tc.wait)
			c.srv.Close()
			if err := c.ca.Close(); err != nil {
				t.Fatal(err)
			}
			var statuses []string
			for _, ev := range c.log.all() {
				if ev.Op == "certConf" && ev.Status == "expired" && ev.Serial == cert.SerialNumber.String() {
					statuses = append(statuses, ev.StatusString)
				}
			}
			if len(statuses) != 1 || statuses[0] != tc.wantStatus {
				t.Errorf("expiry events %q, want one saying %q", statuses, tc.wantStatus)
			}
			again, err := New(Config{Dir: dir, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if _, revoked, ok := again.Certificate(cert.SerialNumber.String()); !ok || revoked != tc.wantRevoked {
				t.Fatalf("after a restart: known %v, revoked %v; want revoked %v", ok, revoked, tc.wantRevoked)
			}
		})
	}
}
