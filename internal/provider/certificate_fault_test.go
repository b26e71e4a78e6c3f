package provider

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/faultproxy"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// faultEnv is a development CA behind a fault-injecting proxy, in process
// on 127.0.0.1, with a record of the CA's events.
type faultEnv struct {
	// signerKey and signerChain protect answers the proxy rewrites, as
	// the CA would.
	signerKey     crypto.Signer
	signerChain   []*x509.Certificate
	proxy         *faultproxy.Proxy
	url           string
	reference     string
	secret, caPEM string
	mu            sync.Mutex
	events        []devca.Event
	// dir is the CA's state directory and ca the CA, for tests that need
	// its key (the fault matrix forges certificates with it).
	dir string
	ca  *devca.CA
}

func startFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	e := &faultEnv{dir: t.TempDir()}
	ca, err := devca.New(devca.Config{Dir: e.dir, Events: func(ev devca.Event) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.events = append(e.events, ev)
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.ca = ca
	signer, _ := testpki.ReadDevCA(t, e.dir, testpki.DevCASigner)
	e.signerKey, e.signerChain = signer.Key, []*x509.Certificate{ca.SignerCertificate(), ca.CACertificate()}
	e.proxy = faultproxy.New(ca)
	srv := httptest.NewServer(e.proxy)
	t.Cleanup(func() {
		srv.Close()
		ca.Close()
	})
	caPEM, err := os.ReadFile(ca.CACertificateFile())
	if err != nil {
		t.Fatal(err)
	}
	e.url, e.reference, e.secret, e.caPEM = srv.URL+"/.well-known/cmp", ca.Reference(), ca.Secret(), string(caPEM)
	return e
}

// reject turns the CA's answer into a refusal with the failure bit,
// protected as the CA protects it: an error message, or a rejection in rp.
func (e *faultEnv) reject(fi cmp.FailureInfo, text string) faultproxy.Fault {
	return faultproxy.Rewrite("rejection "+fi.Names()[0], func(m *cmp.Message) error {
		si := cmp.PKIStatusInfo{Status: cmp.StatusRejection, FailInfo: fi, HasFailInfo: true, StatusString: []string{text}}
		if m.Body.Type == cmp.BodyRP {
			m.Body.RevRep = &cmp.RevRepContent{Status: []cmp.PKIStatusInfo{si}}
		} else {
			m.Body = cmp.Body{Type: cmp.BodyError, Error: &cmp.ErrorMsgContent{Status: si}}
		}
		if cmp.IsMACProtected(m.Header.ProtectionAlg) {
			return cmp.ProtectMAC(m, cmp.MACParams{Identifier: m.Header.ProtectionAlg}, []byte(e.secret))
		}
		return cmp.ProtectSignature(m, e.signerKey, e.signerChain, cmp.SignatureOptions{})
	})
}

// hcl is the provider block for the proxied CA.
func (e *faultEnv) hcl() hclConfig {
	return hclConfig{url: e.url, reference: e.reference, secret: e.secret, messageTimeout: "2s", trustedCAPEM: e.caPEM}
}

// config is a provider block for the proxied CA and one certificate.
func (e *faultEnv) config(body string) string {
	c := e.hcl()
	c.body = body
	return c.String()
}

// serverConfig is a provider block and a cmpv2_server called name, both
// for the CA at url.
func (e *faultEnv) serverConfig(name, url string) string {
	c := e.hcl()
	c.url, c.resourceType, c.name, c.body = url, "cmpv2_server", name, fmt.Sprintf("url = %q", url)
	return c.String()
}

// ledger returns the serials the CA issued and revoked so far.
func (e *faultEnv) ledger() (issued map[string]string, revoked map[string]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return ledger(e.events)
}

// describe lists the CA's events and the proxy's faults, for a failure
// message.
func (e *faultEnv) describe() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.events {
		fmt.Fprintf(&b, "\n  %s %s tx %.8s serial %s %s", ev.Op, ev.Status, ev.TransactionID, ev.Serial, ev.StatusString)
	}
	for _, ex := range e.proxy.Exchanges() {
		if ex.Fault != "" {
			fmt.Fprintf(&b, "\n  fault %q on %s tx %.8x", ex.Fault, ex.RequestType, ex.TransactionID)
		}
	}
	return b.String()
}

// serialsInState returns the serial numbers the state holds for the
// certificate: the current one and the one a CR or KUR replaced.
func serialsInState(s *terraform.State) (cur string, all map[string]bool, rs *terraform.ResourceState) {
	all = map[string]bool{}
	if s == nil {
		return "", all, nil
	}
	rs = s.RootModule().Resources["cmpv2_certificate.test"]
	if rs == nil || rs.Primary == nil {
		return "", all, rs
	}
	cur = rs.Primary.Attributes["serial_number"]
	all[cur] = true
	for _, attr := range []string{"certificate_pem", "previous_certificate_pem"} {
		if block, _ := pem.Decode([]byte(rs.Primary.Attributes[attr])); block != nil {
			if c, err := x509.ParseCertificate(block.Bytes); err == nil {
				all[c.SerialNumber.String()] = true
			}
		}
	}
	return cur, all, rs
}

// nothingLost: every certificate the CA issued and that reached the
// provider is in state or revoked. undelivered lists the transactions whose
// answer the proxy destroyed before the provider could read it.
func (e *faultEnv) nothingLost(s *terraform.State) error {
	issued, revoked := e.ledger()
	_, held, _ := serialsInState(s)
	delivered := e.deliveredSerials()
	for serial, subject := range issued {
		if revoked[serial] || held[serial] {
			continue
		}
		if delivered[serial] {
			return fmt.Errorf("certificate %s (%s) reached the provider but is neither in state nor revoked", serial, subject)
		}
	}
	return nil
}

// deliveredSerials are the serials of certificates whose ip/cp/kup went
// through the proxy unbroken.
func (e *faultEnv) deliveredSerials() map[string]bool {
	e.mu.Lock()
	events := append([]devca.Event(nil), e.events...)
	e.mu.Unlock()
	broken := map[string]bool{}
	for _, ex := range e.proxy.Exchanges() {
		if ex.Fault != "" && ex.RequestType != "certConf" && ex.RequestType != "pollReq" {
			broken[fmt.Sprintf("%x", ex.TransactionID)] = true
		}
	}
	out := map[string]bool{}
	for _, ev := range events {
		if ev.Serial != "" && (ev.Op == "ir" || ev.Op == "cr" || ev.Op == "kur") && !broken[ev.TransactionID] {
			out[ev.Serial] = true
		}
	}
	return out
}

// TestAccCertificateFaults breaks each CMP operation of the certificate's
// lifecycle at the step that matters and checks the state afterwards: a
// failed IR whose certificate arrived leaves a tainted resource holding it;
// a failed CR or KUR leaves the old certificate and key; a failed RR leaves
// the resource; and every certificate that reached the provider is in
// state or revoked at the CA.
func TestAccCertificateFaults(t *testing.T) {
	base := `subject = { common_name = "fault.example" }
dns_names = ["fault.example"]`
	cr := `subject = { common_name = "fault.example" }
dns_names = ["fault.example", "www.fault.example"]`
	kur := base + "\nrotation_triggers = { epoch = \"2\" }"
	// Cleared once here: the cases run in parallel, each with its own CA.
	clearProviderEnv(t)

	// held remembers the first certificate and key of a case.
	type held struct{ serial, cert, key string }

	cases := []struct {
		name string
		// create: the configuration of the first (clean) apply; empty for
		// a fault on the IR itself.
		create string
		// change: the configuration applied under the fault (empty:
		// destroy under the fault).
		change string
		rule   faultproxy.Rule
		// fault, when set, builds the fault with the environment's keys.
		fault func(e *faultEnv) faultproxy.Fault
		want  string
		// state after the failed step: "tainted" (IR certificate saved),
		// "absent" (nothing issued reached the provider), "old" (the
		// first certificate and key untouched), "old-or-new" (the old one,
		// or the new one with the old as previous_certificate_pem).
		after string
	}{
		{name: "ir_reset_before_answer", change: base, rule: faultproxy.Rule{On: "ir", Fault: faultproxy.Reset()},
			want: `connection reset|unexpected EOF`, after: "absent"},
		{name: "ir_garbage_answer", change: base, rule: faultproxy.Rule{On: "ir", Fault: faultproxy.Garbage()},
			want: `malformed CMP message`, after: "absent"},
		{name: "ir_certconf_reset", change: base, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.Reset()},
			want: `was issued but not confirmed`, after: "tainted"},
		{name: "ir_certconf_replayed", change: base, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.ReplayPrevious()},
			want: `recipNonce does not match`, after: "tainted"},
		{name: "ir_wrong_protection", change: base, rule: faultproxy.Rule{On: "ir", Fault: faultproxy.FlipProtection()},
			want: `protection does not verify`, after: "absent"},
		{name: "ir_slower_than_timeout", change: base, rule: faultproxy.Rule{On: "ir", Fault: faultproxy.Delay(time.Minute)},
			want: `no (complete )?answer within the message timeout 2s`, after: "absent"},
		{name: "ir_http_503", change: base, rule: faultproxy.Rule{On: "ir", Fault: faultproxy.HTTPStatus(503, "", true)},
			want: `HTTP 503 Service Unavailable`, after: "absent"},
		{name: "ir_rejected", change: base, rule: faultproxy.Rule{On: "ir"},
			fault: func(e *faultEnv) faultproxy.Fault { return e.reject(cmp.FailNotAuthorized, "reference unknown here") },
			want:  `rejection: notAuthorized: "reference unknown here"`, after: "absent"},
		{name: "cr_rejected", create: base, change: cr, rule: faultproxy.Rule{On: "cr"},
			fault: func(e *faultEnv) faultproxy.Fault { return e.reject(cmp.FailBadCertTemplate, "SAN not allowed") },
			want:  `rejection: badCertTemplate: "SAN not allowed"`, after: "old"},
		{name: "kur_rejected", create: base, change: kur, rule: faultproxy.Rule{On: "kur"},
			fault: func(e *faultEnv) faultproxy.Fault { return e.reject(cmp.FailBadPOP, "proof of possession fails") },
			want:  `rejection: badPOP: "proof of possession fails"`, after: "old"},
		{name: "rr_rejected", create: base, rule: faultproxy.Rule{On: "rr"},
			fault: func(e *faultEnv) faultproxy.Fault { return e.reject(cmp.FailNotAuthorized, "revocation refused") },
			want:  `rejection: notAuthorized: "revocation refused"`, after: "old"},
		{name: "ir_closed_before_answer", change: base, rule: faultproxy.Rule{On: "ir", Fault: faultproxy.Refuse()},
			want: `EOF|connection reset`, after: "absent"},
		{name: "ir_wrong_content_type", change: base, rule: faultproxy.Rule{On: "ir", Fault: faultproxy.ContentType("text/html")},
			want: `wrong Content-Type`, after: "absent"},
		{name: "kur_wrong_signature", create: base, change: kur, rule: faultproxy.Rule{On: "kur", Fault: faultproxy.FlipProtection()},
			want: `protection does not verify`, after: "old"},
		{name: "rr_http_503", create: base, rule: faultproxy.Rule{On: "rr", Fault: faultproxy.HTTPStatus(503, "", true)},
			want: `HTTP 503 Service Unavailable`, after: "old"},
		{name: "cr_reset", create: base, change: cr, rule: faultproxy.Rule{On: "cr", Fault: faultproxy.Reset()},
			want: `connection reset|unexpected EOF`, after: "old"},
		{name: "cr_http_500", create: base, change: cr, rule: faultproxy.Rule{On: "cr", Fault: faultproxy.HTTPStatus(500, "", false)},
			want: `HTTP 500`, after: "old"},
		{name: "cr_certconf_replayed", create: base, change: cr, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.ReplayPrevious()},
			want: `recipNonce does not match`, after: "old-or-new"},
		{name: "kur_reset", create: base, change: kur, rule: faultproxy.Rule{On: "kur", Fault: faultproxy.Reset()},
			want: `connection reset|unexpected EOF`, after: "old"},
		{name: "kur_certconf_reset", create: base, change: kur, rule: faultproxy.Rule{On: "certConf", Fault: faultproxy.Reset()},
			want: `was issued but not confirmed`, after: "old-or-new"},
		{name: "rr_reset", create: base, rule: faultproxy.Rule{On: "rr", Fault: faultproxy.Reset()},
			want: `connection reset|unexpected EOF`, after: "old"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := startFaultEnv(t)
			var first held
			var steps []resource.TestStep
			if tc.create != "" {
				steps = append(steps, resource.TestStep{
					Config: e.config(tc.create),
					Check: func(s *terraform.State) error {
						cur, _, rs := serialsInState(s)
						first = held{cur, rs.Primary.Attributes["certificate_pem"], rs.Primary.Attributes["private_key_pem"]}
						return e.nothingLost(s)
					},
				})
			}
			rule := tc.rule
			if tc.fault != nil {
				rule.Fault = tc.fault(e)
			}
			faulted := resource.TestStep{
				PreConfig: func() { e.proxy.Set(rule) },
				Config:    e.config(tc.change),
				// Terraform wraps diagnostics: any space may be a line break.
				ExpectError: regexp.MustCompile(strings.ReplaceAll(`(?s)`+tc.want+`.*transaction|(?s)transaction.*`+tc.want, " ", `\s+`)),
			}
			if tc.change == "" {
				faulted.Config, faulted.Destroy = e.config(tc.create), true
			}
			steps = append(steps, faulted, resource.TestStep{
				PreConfig:    func() { e.proxy.Set() },
				RefreshState: true,
				// The failed step left work to do: create, replace or update.
				ExpectNonEmptyPlan: true,
				Check: func(s *terraform.State) error {
					if err := e.nothingLost(s); err != nil {
						return err
					}
					cur, _, rs := serialsInState(s)
					switch tc.after {
					case "absent":
						if rs != nil {
							return fmt.Errorf("a resource is in state after an IR whose answer never arrived (serial %q)", cur)
						}
					case "tainted":
						if rs == nil || !rs.Primary.Tainted || cur == "" || rs.Primary.Attributes["private_key_pem"] == "" {
							return fmt.Errorf("want a tainted resource holding the issued certificate and its key, got %v", rs)
						}
					case "old":
						if rs == nil || cur != first.serial || rs.Primary.Attributes["certificate_pem"] != first.cert ||
							rs.Primary.Attributes["private_key_pem"] != first.key {
							return fmt.Errorf("the old certificate and key are not in state untouched (serial %q, first %q)", cur, first.serial)
						}
					case "old-or-new":
						if rs == nil {
							return fmt.Errorf("the resource is gone")
						}
						if cur != first.serial && !strings.Contains(rs.Primary.Attributes["previous_certificate_pem"], strings.TrimSpace(first.cert)) {
							return fmt.Errorf("state holds a new certificate %s without the old one as previous_certificate_pem", cur)
						}
						if cur == first.serial && rs.Primary.Attributes["private_key_pem"] != first.key {
							return fmt.Errorf("the old certificate is in state with another key")
						}
					}
					return nil
				},
			})
			// A clean apply afterwards converges.
			final := tc.change
			if final == "" {
				final = tc.create
			}
			steps = append(steps, resource.TestStep{Config: e.config(final), Check: e.nothingLost})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps:                    steps,
				CheckDestroy:             e.deliveredAllRevoked,
			})
		})
	}
}

// TestAccServerFaults breaks the general message (genm caCerts) that
// cmpv2_server's create sends: the apply fails naming the cause and the
// transaction, and nothing is stored.
func TestAccServerFaults(t *testing.T) {
	clearProviderEnv(t)
	for _, tc := range []struct {
		name  string
		fault func(e *faultEnv) faultproxy.Fault
		want  string
	}{
		{"genm_garbage", func(*faultEnv) faultproxy.Fault { return faultproxy.Garbage() }, `malformed CMP message`},
		{"genm_reset", func(*faultEnv) faultproxy.Fault { return faultproxy.Reset() }, `connection reset|unexpected EOF`},
		{"genm_other_transaction", func(*faultEnv) faultproxy.Fault { return faultproxy.OtherTransaction() }, `transactionID does not match`},
		{"genm_rejected", func(e *faultEnv) faultproxy.Fault { return e.reject(cmp.FailSystemUnavail, "try later") }, `rejection: systemUnavail: "try later"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := startFaultEnv(t)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{
					// A first cmpv2_server succeeds, so a later answer of
					// another transaction exists.
					{Config: e.serverConfig("test", e.url)},
					{
						PreConfig: func() { e.proxy.Set(faultproxy.Rule{On: "genm", Fault: tc.fault(e)}) },
						Config:    e.serverConfig("second", e.url),
						ExpectError: regexp.MustCompile(strings.ReplaceAll(
							`(?s)transaction.*`+tc.want+`|(?s)`+tc.want+`.*transaction`, " ", `\s+`)),
					},
					{
						PreConfig:          func() { e.proxy.Set() },
						RefreshState:       true,
						ExpectNonEmptyPlan: true,
						Check: func(s *terraform.State) error {
							if rs := s.RootModule().Resources["cmpv2_server.second"]; rs != nil {
								return fmt.Errorf("cmpv2_server.second is in state after its genm failed")
							}
							return nil
						},
					},
				},
			})
		})
	}
}

// deliveredAllRevoked is the CheckDestroy of the fault tests: after destroy,
// no certificate that reached the provider is still live at the CA.
func (e *faultEnv) deliveredAllRevoked(*terraform.State) error {
	issued, revoked := e.ledger()
	delivered := e.deliveredSerials()
	for serial := range issued {
		if delivered[serial] && !revoked[serial] {
			return fmt.Errorf("after destroy, certificate %s that reached the provider is still live; CA events: %s", serial, e.describe())
		}
	}
	return nil
}
