package provider

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestCreatePlanMatchesFramework feeds generated plans of new certificates
// to the framework's server and to noChangeServer in front of it, and
// requires the same responses. The configurations vary the key's custody
// (generated, private_key_pem, a CSR, a write-only key), the credentials,
// the key attributes, defaults left out or set, validity against the
// renewal window, the PKCS#12 settings, unknown inputs and nested values,
// and write-only values proposed or not; some are refused (a key that
// disagrees with key_algorithm, credentials without their secret).
func TestCreatePlanMatchesFramework(t *testing.T) {
	b := newNoChangeBench(t)
	if !b.cert.createOK {
		t.Fatal("noChangeServer does not plan creates of cmpv2_certificate")
	}
	rng := rand.New(rand.NewPCG(noChangeSeed, 3))
	gen := newCreateCases(t, b)
	const plans = 500
	before := b.passed.plan.Load()
	var errs, warns int
	compareServers(t, b, "create", plans, func() (*tfprotov6.PlanResourceChangeRequest, string) { return gen.request(t, rng) },
		tfprotov6.ProviderServer.PlanResourceChange,
		func(want, got *tfprotov6.PlanResourceChangeResponse) string {
			for _, d := range want.Diagnostics {
				switch d.Severity {
				case tfprotov6.DiagnosticSeverityError:
					errs++
				case tfprotov6.DiagnosticSeverityWarning:
					warns++
				}
			}
			return b.planDiff(t, want, got)
		})
	passed := b.passed.plan.Load() - before
	t.Logf("create: %d of %d planned below the framework; %d errors and %d warnings compared", plans-passed, plans, errs, warns)
	if passed != 0 {
		t.Errorf("%d plans of a create went to the framework: every generated one is one noChangeServer plans", passed)
	}
	if errs < plans/20 || warns < plans/20 {
		t.Errorf("%d errors and %d warnings: the cases must reach the resource's refusals and warnings", errs, warns)
	}
}

// createCases generates plans of a create.
type createCases struct {
	b                  *noChangeBench
	userKey, rsaKey    string
	csrPEM             string
	config             tftypes.Value // a configuration of a generated key
	strType, enrollTyp tftypes.Type
}

func newCreateCases(t *testing.T, b *noChangeBench) *createCases {
	t.Helper()
	k := newCSRKey(t)
	_, userKey := testCertificate(t, "user key")
	g := &createCases{b: b, userKey: userKey, csrPEM: k.csr(t, "csr.example", "csr.example"), strType: tftypes.String,
		enrollTyp: attrType(b.typ, "enrollment")}
	der, err := x509.MarshalPKCS8PrivateKey(testpki.NewKey(t, testpki.RSA2048))
	if err != nil {
		t.Fatal(err)
	}
	g.rsaKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	config := b.base
	for _, name := range b.computedOnly {
		config = withAttr(config, name, tftypes.NewValue(attrType(b.typ, name), nil))
	}
	for _, name := range []string{"private_key_pem", "key_algorithm", "rsa_bits", "ecdsa_curve", "revoke_on_destroy",
		"revocation_reason", "revoke_superseded", "update_protection", "rotation_triggers"} {
		config = withAttr(config, name, tftypes.NewValue(attrType(b.typ, name), nil))
	}
	g.config = config
	return g
}

func (g *createCases) request(t *testing.T, rng *rand.Rand) (*tfprotov6.PlanResourceChangeRequest, string) {
	var what []string
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	num := func(n int64) tftypes.Value { return tftypes.NewValue(tftypes.Number, big.NewFloat(float64(n))) }
	config := g.config
	set := func(name string, v tftypes.Value) {
		config = withAttr(config, name, v)
		what = append(what, fmt.Sprintf("%s=%s", name, shortValue(v)))
	}
	switch rng.IntN(8) { // where the key lives
	case 0:
		set("private_key_pem", str(g.userKey))
	case 1:
		set("private_key_pem", str(g.rsaKey))
	case 2:
		set("certificate_request_pem", str(g.csrPEM))
		set("subject", tftypes.NewValue(attrType(g.b.typ, "subject"), nil))
		set("dns_names", tftypes.NewValue(attrType(g.b.typ, "dns_names"), nil))
		set("key_usages", tftypes.NewValue(attrType(g.b.typ, "key_usages"), nil))
	case 3:
		set("private_key_wo", str(g.userKey))
		set("private_key_wo_version", num(1))
	}
	switch rng.IntN(6) { // key attributes, some disagreeing with a given key
	case 0:
		set("key_algorithm", str("RSA"))
		if rng.IntN(2) == 0 {
			set("rsa_bits", num(3072))
		}
	case 1:
		set("key_algorithm", str("ED25519"))
	case 2:
		set("ecdsa_curve", str("P384"))
	}
	switch rng.IntN(6) { // IR credentials
	case 0:
		set("enrollment", g.enrollment(map[string]tftypes.Value{"reference": str("other"), "secret": str("pw2")}))
	case 1:
		set("enrollment", g.enrollment(map[string]tftypes.Value{"reference": str("other"), "secret_wo": str("pw3")}))
	case 2:
		set("enrollment", g.enrollment(map[string]tftypes.Value{"reference": str("other")}))
	case 3:
		set("enrollment", tftypes.NewValue(g.enrollTyp, tftypes.UnknownValue))
	}
	switch rng.IntN(5) { // validity against the renewal window
	case 0:
		set("validity_period_hours", num(24))
		set("renew_before_expiry", str("720h"))
	case 1:
		set("validity_period_hours", num(2160))
		set("renew_after_issue", str("24h"))
	case 2:
		set("validity_period_hours", tftypes.NewValue(tftypes.Number, tftypes.UnknownValue))
	}
	switch rng.IntN(5) { // PKCS#12
	case 0:
		set("certificate_p12_password", str("p12"))
	case 1:
		set("certificate_p12_password_wo", str("p12wo"))
		set("certificate_p12_password_wo_version", num(1))
		if rng.IntN(2) == 0 {
			set("certificate_p12_encoding", str("legacy"))
		}
	}
	switch rng.IntN(6) { // defaults given as the configuration's own values
	case 0:
		set("revoke_on_destroy", tftypes.NewValue(tftypes.Bool, false))
		set("revocation_reason", str("superseded"))
	case 1:
		set("update_protection", str("mac"))
		set("revoke_superseded", tftypes.NewValue(tftypes.Bool, false))
	}
	switch rng.IntN(8) { // unknown and nested values
	case 0:
		name := g.b.inputs[rng.IntN(len(g.b.inputs))]
		set(name, tftypes.NewValue(attrType(g.b.typ, name), tftypes.UnknownValue))
	case 1:
		config = withPath(config, tftypes.NewAttributePath().WithAttributeName("subject").WithAttributeName("organization"),
			tftypes.NewValue(tftypes.String, tftypes.UnknownValue))
		what = append(what, "subject.organization unknown")
	case 2:
		set("subject", tftypes.NewValue(attrType(g.b.typ, "subject"), nil))
	case 3:
		set("server", tftypes.NewValue(attrType(g.b.typ, "server"), tftypes.UnknownValue))
	}
	// Terraform proposes the configuration, write-only values included;
	// the framework nulls those.
	proposed := config
	if rng.IntN(3) == 0 {
		for _, p := range g.b.cert.writeOnly {
			if v, ok := valueAt(proposed, p); ok && !v.IsNull() {
				proposed = withPath(proposed, p, tftypes.NewValue(v.Type(), nil))
			}
		}
		what = append(what, "write-only values not proposed")
	}
	return &tfprotov6.PlanResourceChangeRequest{
		TypeName:         "cmpv2_certificate",
		PriorState:       g.b.dynamic(t, tftypes.NewValue(g.b.typ, nil)),
		ProposedNewState: g.b.dynamic(t, proposed),
		Config:           g.b.dynamic(t, config),
	}, strings.Join(what, ", ")
}

// enrollment is an enrollment object with attrs set and the rest null.
func (g *createCases) enrollment(attrs map[string]tftypes.Value) tftypes.Value {
	obj := g.enrollTyp.(tftypes.Object)
	all := map[string]tftypes.Value{}
	for name, at := range obj.AttributeTypes {
		all[name] = tftypes.NewValue(at, nil)
	}
	for name, v := range attrs {
		all[name] = v
	}
	return tftypes.NewValue(obj, all)
}

// shortValue names a generated value without printing key material.
func shortValue(v tftypes.Value) string {
	var s string
	if v.IsKnown() && !v.IsNull() && v.Type().Is(tftypes.String) && v.As(&s) == nil && strings.HasPrefix(s, "-----BEGIN") {
		return strings.Fields(s)[1] // the PEM type's first word
	}
	return v.String()
}

// BenchmarkCreatePlan: the plan of one new certificate through the
// framework and through noChangeServer.
func BenchmarkCreatePlan(b *testing.B) {
	nb := newNoChangeBenchFor(b)
	config := nb.base
	for _, name := range append(nb.computedOnly, "private_key_pem") {
		config = withAttr(config, name, tftypes.NewValue(attrType(nb.typ, name), nil))
	}
	req := &tfprotov6.PlanResourceChangeRequest{
		TypeName:         "cmpv2_certificate",
		PriorState:       nb.dynamic(b, tftypes.NewValue(nb.typ, nil)),
		ProposedNewState: nb.dynamic(b, config),
		Config:           nb.dynamic(b, config),
	}
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		server tfprotov6.ProviderServer
	}{{"framework", nb.plain}, {"noChangeServer", nb.wrapped}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				resp, err := c.server.PlanResourceChange(ctx, req)
				if err != nil || len(resp.Diagnostics) > 0 {
					b.Fatal(err, resp.Diagnostics)
				}
			}
		})
	}
}

// TestCreatePlanConcurrent: Terraform plans many creates at once; each
// answer of noChangeServer, planned concurrently, is the framework's.
func TestCreatePlanConcurrent(t *testing.T) {
	b := newNoChangeBench(t)
	rng := rand.New(rand.NewPCG(noChangeSeed, 4))
	gen := newCreateCases(t, b)
	ctx := context.Background()
	type planCase struct {
		req  *tfprotov6.PlanResourceChangeRequest
		what string
		want *tfprotov6.PlanResourceChangeResponse
	}
	cases := make([]planCase, 80)
	for i := range cases {
		req, what := gen.request(t, rng)
		want, err := b.plain.PlanResourceChange(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		cases[i] = planCase{req, what, want}
	}
	got := make([]*tfprotov6.PlanResourceChangeResponse, len(cases))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(cases); i += 8 {
				got[i], _ = b.wrapped.PlanResourceChange(ctx, cases[i].req)
			}
		})
	}
	wg.Wait()
	for i, c := range cases {
		if got[i] == nil {
			t.Fatalf("case %d (%s): no answer", i, c.what)
		}
		if d := b.planDiff(t, c.want, got[i]); d != "" {
			t.Errorf("case %d (%s): %s", i, c.what, d)
		}
	}
}
