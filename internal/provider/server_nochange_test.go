package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// noChangeSeed makes the generated requests reproducible; a failure names
// the case number under this seed.
const noChangeSeed = 15

// passCounter counts the calls noChangeServer hands to the framework.
type passCounter struct {
	tfprotov6.ProviderServer
	plan, read, upgrade atomic.Int64
}

func (p *passCounter) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	p.plan.Add(1)
	return p.ProviderServer.PlanResourceChange(ctx, req)
}

func (p *passCounter) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	p.read.Add(1)
	return p.ProviderServer.ReadResource(ctx, req)
}

func (p *passCounter) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	p.upgrade.Add(1)
	return p.ProviderServer.UpgradeResourceState(ctx, req)
}

// noChangeBench is the two servers a differential test compares: the
// framework's alone, and noChangeServer in front of another instance of
// it, both configured alike, on one clock the test moves.
type noChangeBench struct {
	clock   *testClock
	plain   tfprotov6.ProviderServer
	wrapped *noChangeServer
	passed  *passCounter
	cert    *noChangeType // what noChangeServer read off the schema
	typ     tftypes.Type
	base    tftypes.Value // issuedState
	// computedOnly are the top-level attributes a configuration cannot
	// set; inputs are the others.
	computedOnly, inputs []string
	trustedPEM           string
}

func newNoChangeBench(t *testing.T) *noChangeBench {
	t.Helper()
	clearProviderEnv(t)
	return newNoChangeBenchFor(t)
}

// newNoChangeBenchFor is newNoChangeBench for tests and benchmarks that
// clear the provider's environment themselves, or need none cleared.
func newNoChangeBenchFor(t testing.TB) *noChangeBench {
	t.Helper()
	ctx := context.Background()
	b := &noChangeBench{clock: newTestClock()}
	c := clock{Now: b.clock.Now}
	b.plain = providerserver.NewProtocol6(newProvider("test", c)())()
	p := newProvider("test", c)()
	b.passed = &passCounter{ProviderServer: providerserver.NewProtocol6(p)()}
	b.wrapped = newNoChangeServer(p, b.passed)
	b.cert = b.wrapped.types["cmpv2_certificate"]
	if b.cert == nil || !b.cert.planOK {
		t.Fatalf("noChangeServer does not answer cmpv2_certificate plans: %+v", b.cert)
	}
	if b.wrapped.types["cmpv2_server"] != nil {
		t.Fatal("noChangeServer took cmpv2_server, which has no noChangeRules")
	}
	b.trustedPEM, _ = testCertificate(t, "trust anchor")
	b.configure(t, b.plain)
	b.configure(t, b.wrapped)

	sch := certificateSchema(t)
	b.typ = sch.Type().TerraformType(ctx)
	// issuedState as Terraform stores it: every default held.
	b.base = rawOf(t, sch, issuedState())
	for _, d := range b.cert.defaults {
		if v, ok := valueAt(b.base, d.path); ok && v.IsNull() {
			b.base = withPath(b.base, d.path, d.value)
		}
	}
	for name, a := range sch.Attributes {
		if a.IsComputed() && !a.IsOptional() && !a.IsRequired() {
			b.computedOnly = append(b.computedOnly, name)
		} else {
			b.inputs = append(b.inputs, name)
		}
	}
	slices.Sort(b.computedOnly)
	slices.Sort(b.inputs)
	return b
}

// configure gives the provider a CA, credentials and a trust anchor, so
// that plans reach the CR and KUR decisions.
func (b *noChangeBench) configure(t testing.TB, s tfprotov6.ProviderServer) {
	t.Helper()
	ctx := context.Background()
	var ps provider.SchemaResponse
	(&cmpv2Provider{}).Schema(ctx, provider.SchemaRequest{}, &ps)
	typ := ps.Schema.Type().TerraformType(ctx)
	cfg := map[string]tftypes.Value{}
	for name, at := range typ.(tftypes.Object).AttributeTypes {
		cfg[name] = tftypes.NewValue(at, nil)
	}
	cfg["url"] = tftypes.NewValue(tftypes.String, "http://127.0.0.1:8829/")
	cfg["reference"] = tftypes.NewValue(tftypes.String, "ref")
	cfg["secret"] = tftypes.NewValue(tftypes.String, "pw")
	cfg["trusted_ca_pem"] = tftypes.NewValue(tftypes.String, b.trustedPEM)
	dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, cfg))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &dv})
	if err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("configure: %v %v", err, resp.Diagnostics)
	}
}

// TestNoChangeServerMatchesFramework feeds the same generated requests to
// the framework's server and to noChangeServer in front of it, and
// requires the same responses: diagnostics, planned or new state,
// RequiresReplace and private state bytes. The requests move the clock
// across renewal windows and expiry, and vary ready_for_renewal,
// renewal_time, the renewal settings, defaults held or not, import marks
// and other private state (also malformed), write-only values, unknown
// and changed inputs, and stored states of other versions and shapes.
// Both paths must be taken many times.
func TestNoChangeServerMatchesFramework(t *testing.T) {
	b := newNoChangeBench(t)
	rng := rand.New(rand.NewPCG(noChangeSeed, noChangeSeed))
	const plans, reads, upgrades = 900, 400, 200

	compareServers(t, b, "plan", plans, func() (*tfprotov6.PlanResourceChangeRequest, string) { return b.planRequest(t, rng) },
		tfprotov6.ProviderServer.PlanResourceChange,
		func(want, got *tfprotov6.PlanResourceChangeResponse) string { return b.planDiff(t, want, got) })
	compareServers(t, b, "read", reads, func() (*tfprotov6.ReadResourceRequest, string) { return b.readRequest(t, rng) },
		tfprotov6.ProviderServer.ReadResource,
		func(want, got *tfprotov6.ReadResourceResponse) string {
			diff := diagDiff(want.Diagnostics, got.Diagnostics) + b.valueDiff("new state", want.NewState, got.NewState) +
				bytesDiff("private", want.Private, got.Private)
			if want.Deferred != got.Deferred {
				diff += fmt.Sprintf("deferred %v, want %v; ", got.Deferred, want.Deferred)
			}
			return diff
		})
	compareServers(t, b, "upgrade", upgrades, func() (*tfprotov6.UpgradeResourceStateRequest, string) { return b.upgradeRequest(t, rng) },
		tfprotov6.ProviderServer.UpgradeResourceState,
		func(want, got *tfprotov6.UpgradeResourceStateResponse) string {
			return diagDiff(want.Diagnostics, got.Diagnostics) +
				b.valueDiff("upgraded state", want.UpgradedState, got.UpgradedState)
		})
	// Both paths taken, each many times (a configuration holding a
	// write-only value always goes to the framework, which leaves fewer
	// plans to the no-change server than reads).
	for _, c := range []struct {
		name          string
		total, passed int64
	}{
		{"plan", plans, b.passed.plan.Load()},
		{"read", reads, b.passed.read.Load()},
		{"upgrade", upgrades, b.passed.upgrade.Load()},
	} {
		answered := c.total - c.passed
		t.Logf("%s: %d of %d answered below the framework", c.name, answered, c.total)
		if answered < c.total/8 || c.passed < c.total/8 {
			t.Errorf("%s: %d answered below the framework, %d by it: want each at least an eighth of %d", c.name, answered, c.passed, c.total)
		}
	}
}

// times are the clock's positions against base's validity (t0, t1) and
// default window (renewal at t0+60d).
func (b *noChangeBench) clockAt(rng *rand.Rand) time.Time {
	renewAt := t0.Add(60 * 24 * time.Hour)
	at := []time.Time{t0.Add(-time.Hour), t0.Add(time.Hour), renewAt.Add(-time.Second), renewAt, renewAt.Add(time.Hour),
		t1.Add(-480 * time.Hour), t1.Add(-time.Second), t1, t1.Add(time.Minute)}
	now := at[rng.IntN(len(at))]
	if rng.IntN(2) == 0 { // most plans: before any window opens
		now = []time.Time{t0.Add(time.Hour), t0.Add(30 * 24 * time.Hour), renewAt.Add(-time.Second)}[rng.IntN(3)]
	}
	b.clock.Set(now)
	return now
}

// state is a generated prior state: base with the renewal attributes,
// defaults and computed values varied.
func (b *noChangeBench) state(rng *rand.Rand, what *[]string) tftypes.Value {
	v := b.base
	set := func(name string, nv tftypes.Value) {
		v = withAttr(v, name, nv)
		*what = append(*what, fmt.Sprintf("%s=%v", name, nv))
	}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	if rng.IntN(4) == 0 {
		settings := []struct{ before, after, renewal string }{
			{"480h", "", t1.Add(-480 * time.Hour).Format(time.RFC3339)},
			{"", "24h", t0.Add(24 * time.Hour).Format(time.RFC3339)},
			{"2400h", "", t0.Add(60 * 24 * time.Hour).Format(time.RFC3339)}, // longer than the validity: warns
			{"480h", "", t0.Add(60 * 24 * time.Hour).Format(time.RFC3339)},  // renewal_time stale
			{"bogus", "", t0.Add(60 * 24 * time.Hour).Format(time.RFC3339)},
		}[rng.IntN(5)]
		orNull := func(s string) tftypes.Value {
			if s == "" {
				return tftypes.NewValue(tftypes.String, nil)
			}
			return str(s)
		}
		set("renew_before_expiry", orNull(settings.before))
		set("renew_after_issue", orNull(settings.after))
		set("renewal_time", str(settings.renewal))
	}
	switch rng.IntN(10) {
	case 0:
		set("ready_for_renewal", tftypes.NewValue(tftypes.Bool, true))
	case 1:
		set("ready_for_renewal", tftypes.NewValue(tftypes.Bool, nil))
	}
	switch rng.IntN(12) {
	case 0:
		set("renewal_time", tftypes.NewValue(tftypes.String, nil))
	case 1:
		set("renewal_time", str("not a time"))
	case 2:
		set("not_after", str("not a time"))
	}
	if rng.IntN(4) == 0 {
		set("previous_certificate_pem", str(b.trustedPEM))
	}
	// A default the state does not hold.
	if rng.IntN(6) == 0 {
		d := b.cert.defaults[rng.IntN(len(b.cert.defaults))]
		if len(d.path.Steps()) == 1 {
			set(string(d.path.Steps()[0].(tftypes.AttributeName)), otherValue(d.value.Type(), rng))
		}
	}
	return v
}

// private is generated private state bytes: none, the import mark, a
// previous key record, both, the framework's own mark, and malformed ones.
func (b *noChangeBench) private(rng *rand.Rand, what *[]string) []byte {
	options := []struct {
		name string
		raw  []byte
	}{
		{"no private", nil},
		{"empty private", []byte{}},
		{"private {}", []byte(`{}`)},
		{"private null", []byte(`null`)},
		{"import mark", privateJSON(map[string]string{privateImported: "true"})},
		{"import mark false", privateJSON(map[string]string{privateImported: "false"})},
		{"previous key", privateJSON(map[string]string{privatePreviousKey: `{"pem":"KEY"}`})},
		{"previous key and import mark", privateJSON(map[string]string{privatePreviousKey: `{"pem":"KEY"}`, privateImported: "true"})},
		{"framework mark after import", privateJSON(map[string]string{".import_before_read": "true"})},
		{"framework mark and previous key", privateJSON(map[string]string{".import_before_read": "true", privatePreviousKey: `{"pem":"KEY"}`})},
		{"private not JSON", []byte("not json")},
		{"private value not JSON", privateJSON(map[string]string{"x": "not json"})},
		{"private value empty", privateJSON(map[string]string{"x": ""})},
		{"private of another SDK", []byte(`{"schema_version":"1"}`)},
		// Valid, but not as the framework writes it: keys out of order, spaces.
		{"private not canonical", []byte(` { "previous_key" : "eyJwZW0iOiJLRVkifQ==", "imported": "ZmFsc2U=" } `)},
	}
	// The usual cases (none, a previous key) most often.
	var o = options[0]
	switch n := rng.IntN(20); {
	case n < 8:
	case n < 11:
		o = options[6]
	default:
		o = options[rng.IntN(len(options))]
	}
	*what = append(*what, o.name)
	return o.raw
}

func privateJSON(m map[string]string) []byte {
	raw := map[string][]byte{}
	for k, v := range m {
		raw[k] = []byte(v)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		panic(err)
	}
	return b
}

// planRequest is a generated PlanResourceChange: mostly the prior state
// proposed as it is, else with an input changed, unknown or write-only.
func (b *noChangeBench) planRequest(t *testing.T, rng *rand.Rand) (*tfprotov6.PlanResourceChangeRequest, string) {
	var what []string
	now := b.clockAt(rng)
	what = append(what, "now "+now.Format(time.RFC3339))
	prior := b.state(rng, &what)
	proposed := prior
	config := prior
	for _, name := range b.computedOnly {
		config = withAttr(config, name, tftypes.NewValue(attrType(b.typ, name), nil))
	}
	// private_key_pem generated, not configured; defaults held by the
	// state and left out of the configuration, unless set otherwise.
	config = withAttr(config, "private_key_pem", tftypes.NewValue(tftypes.String, nil))
	for _, d := range b.cert.defaults {
		if len(d.path.Steps()) != 1 || rng.IntN(5) == 0 {
			continue // nested, or configured as the state holds it
		}
		name := string(d.path.Steps()[0].(tftypes.AttributeName))
		if got, _ := valueAt(prior, d.path); got.Equal(d.value) {
			config = withAttr(config, name, tftypes.NewValue(d.value.Type(), nil))
		}
	}
	switch rng.IntN(28) {
	case 0: // an input changed
		name := b.inputs[rng.IntN(len(b.inputs))]
		nv := otherValue(attrType(b.typ, name), rng)
		proposed, config = withAttr(proposed, name, nv), withAttr(config, name, nv)
		what = append(what, "changed "+name)
	case 1: // an input unknown until apply
		name := b.inputs[rng.IntN(len(b.inputs))]
		nv := tftypes.NewValue(attrType(b.typ, name), tftypes.UnknownValue)
		proposed, config = withAttr(proposed, name, nv), withAttr(config, name, nv)
		what = append(what, "unknown "+name)
	case 2: // a computed attribute unknown in the proposal
		name := b.computedOnly[rng.IntN(len(b.computedOnly))]
		proposed = withAttr(proposed, name, tftypes.NewValue(attrType(b.typ, name), tftypes.UnknownValue))
		what = append(what, "unknown computed "+name)
	case 3: // a write-only value in the configuration, and maybe the proposal
		p := b.cert.writeOnly[rng.IntN(len(b.cert.writeOnly))]
		secret := tftypes.NewValue(tftypes.String, "write-only secret")
		config = withPath(config, p, secret)
		switch rng.IntN(3) {
		case 0:
			proposed = withPath(proposed, p, secret)
			what = append(what, "write-only in proposal "+p.String())
		case 1: // and stored, which Terraform never does
			proposed, prior = withPath(proposed, p, secret), withPath(prior, p, secret)
			what = append(what, "write-only in proposal and prior state "+p.String())
		default:
			// Its parent object as the configuration has it.
			proposed = withPath(proposed, p, tftypes.NewValue(tftypes.String, nil))
			prior = withPath(prior, p, tftypes.NewValue(tftypes.String, nil))
			what = append(what, "write-only in config "+p.String())
		}
	case 7: // unknown in the prior state too, which Terraform never sends
		name := b.inputs[rng.IntN(len(b.inputs))]
		nv := tftypes.NewValue(attrType(b.typ, name), tftypes.UnknownValue)
		prior, proposed, config = withAttr(prior, name, nv), withAttr(proposed, name, nv), withAttr(config, name, nv)
		what = append(what, "unknown in prior state "+name)
	case 4, 5, 6: // the configuration leaves out a default the state does not hold
		d := b.cert.defaults[rng.IntN(len(b.cert.defaults))]
		if len(d.path.Steps()) == 1 {
			name := string(d.path.Steps()[0].(tftypes.AttributeName))
			nv := otherValue(d.value.Type(), rng)
			proposed, prior = withAttr(proposed, name, nv), withAttr(prior, name, nv)
			config = withAttr(config, name, tftypes.NewValue(d.value.Type(), nil))
			what = append(what, "default not held "+name)
		}
	}
	return &tfprotov6.PlanResourceChangeRequest{
		TypeName:         "cmpv2_certificate",
		PriorState:       b.dynamic(t, prior),
		ProposedNewState: b.dynamic(t, proposed),
		Config:           b.dynamic(t, config),
		PriorPrivate:     b.private(rng, &what),
	}, strings.Join(what, ", ")
}

// readRequest is a generated ReadResource.
func (b *noChangeBench) readRequest(t *testing.T, rng *rand.Rand) (*tfprotov6.ReadResourceRequest, string) {
	var what []string
	now := b.clockAt(rng)
	what = append(what, "now "+now.Format(time.RFC3339))
	state := b.state(rng, &what)
	if rng.IntN(10) == 0 {
		p := b.cert.writeOnly[rng.IntN(len(b.cert.writeOnly))]
		state = withPath(state, p, tftypes.NewValue(tftypes.String, "stored write-only"))
		what = append(what, "write-only in state "+p.String())
	}
	return &tfprotov6.ReadResourceRequest{
		TypeName:     "cmpv2_certificate",
		CurrentState: b.dynamic(t, state),
		Private:      b.private(rng, &what),
	}, strings.Join(what, ", ")
}

// upgradeRequest is a generated UpgradeResourceState: a stored state as
// JSON at the current version or another, with attributes the schema
// does not have, without some it has, or of a wrong type.
func (b *noChangeBench) upgradeRequest(t *testing.T, rng *rand.Rand) (*tfprotov6.UpgradeResourceStateRequest, string) {
	var what []string
	obj, ok := jsonOf(b.state(rng, &what)).(map[string]any)
	if !ok {
		t.Fatal("state is not an object")
	}
	version := b.cert.version
	switch rng.IntN(8) {
	case 0:
		obj["removed_attribute"] = "x"
		what = append(what, "unknown attribute")
	case 1:
		delete(obj, b.inputs[rng.IntN(len(b.inputs))])
		what = append(what, "attribute missing")
	case 2:
		obj["serial_number"] = map[string]any{"not": "a string"}
		what = append(what, "wrong type")
	case 3:
		version++
		what = append(what, "newer version")
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	rs := &tfprotov6.RawState{JSON: raw}
	if rng.IntN(20) == 0 {
		rs = &tfprotov6.RawState{Flatmap: map[string]string{"id": "1"}}
		what = append(what, "flatmap")
	}
	return &tfprotov6.UpgradeResourceStateRequest{TypeName: "cmpv2_certificate", Version: version, RawState: rs}, strings.Join(what, ", ")
}

func (b *noChangeBench) dynamic(t testing.TB, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(b.typ, v)
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

// compareServers sends n generated requests of one kind (gen, which also
// says what each case holds) to the framework's server and to the
// no-change server through call, and requires the same answer (diff empty).
func compareServers[Q, R any](t *testing.T, b *noChangeBench, kind string, n int, gen func() (Q, string),
	call func(tfprotov6.ProviderServer, context.Context, Q) (R, error), diff func(want, got R) string) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		req, what := gen()
		want, err1 := call(b.plain, ctx, req)
		got, err2 := call(b.wrapped, ctx, req)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s case %d (%s): errors %v, %v", kind, i, what, err1, err2)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("%s case %d (seed %d; %s): %s", kind, i, noChangeSeed, what, d)
		}
	}
}

func (b *noChangeBench) planDiff(t *testing.T, want, got *tfprotov6.PlanResourceChangeResponse) string {
	t.Helper()
	var req []string
	for _, r := range [][]*tftypes.AttributePath{want.RequiresReplace, got.RequiresReplace} {
		var s []string
		for _, p := range r {
			s = append(s, p.String())
		}
		req = append(req, strings.Join(s, " "))
	}
	diff := diagDiff(want.Diagnostics, got.Diagnostics) + b.valueDiff("planned state", want.PlannedState, got.PlannedState) +
		bytesDiff("planned private", want.PlannedPrivate, got.PlannedPrivate)
	if req[0] != req[1] {
		diff += fmt.Sprintf("requires replace %q, want %q; ", req[1], req[0])
	}
	if (want.Deferred == nil) != (got.Deferred == nil) || (want.PlannedIdentity == nil) != (got.PlannedIdentity == nil) {
		diff += "deferred or identity differ; "
	}
	return diff
}

func (b *noChangeBench) valueDiff(name string, want, got *tfprotov6.DynamicValue) string {
	if want == nil || got == nil {
		if want != got {
			return fmt.Sprintf("%s %v, want %v; ", name, got, want)
		}
		return ""
	}
	w, err1 := want.Unmarshal(b.typ)
	g, err2 := got.Unmarshal(b.typ)
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("%s: %v, %v; ", name, err1, err2)
	}
	if !w.Equal(g) {
		return fmt.Sprintf("%s\n%v\nwant\n%v\n", name, g, w)
	}
	return ""
}

func diagDiff(want, got []*tfprotov6.Diagnostic) string {
	text := func(ds []*tfprotov6.Diagnostic) string {
		var s []string
		for _, d := range ds {
			s = append(s, fmt.Sprintf("%s|%s|%s|%v", d.Severity, d.Summary, d.Detail, d.Attribute))
		}
		return strings.Join(s, "\n")
	}
	if w, g := text(want), text(got); w != g {
		return fmt.Sprintf("diagnostics\n%s\nwant\n%s\n", g, w)
	}
	return ""
}

func bytesDiff(name string, want, got []byte) string {
	if !bytes.Equal(want, got) {
		return fmt.Sprintf("%s %q, want %q; ", name, got, want)
	}
	return ""
}

// withAttr is object v with its top-level attribute name set to nv.
func withAttr(v tftypes.Value, name string, nv tftypes.Value) tftypes.Value {
	return withPath(v, tftypes.NewAttributePath().WithAttributeName(name), nv)
}

// withPath is object v with the attribute at p set to nv; a null object
// on the way becomes one with null attributes.
func withPath(v tftypes.Value, p *tftypes.AttributePath, nv tftypes.Value) tftypes.Value {
	steps := p.Steps()
	if len(steps) == 0 {
		return nv
	}
	obj := v.Type().(tftypes.Object)
	attrs := map[string]tftypes.Value{}
	if !v.IsNull() && v.IsKnown() {
		var old map[string]tftypes.Value // v's own map: copied, never written
		if err := v.As(&old); err != nil {
			panic(err)
		}
		maps.Copy(attrs, old)
	} else {
		for n, at := range obj.AttributeTypes {
			attrs[n] = tftypes.NewValue(at, nil)
		}
	}
	name := string(steps[0].(tftypes.AttributeName))
	attrs[name] = withPath(attrs[name], tftypes.NewAttributePathWithSteps(steps[1:]), nv)
	return tftypes.NewValue(obj, attrs)
}

func attrType(typ tftypes.Type, name string) tftypes.Type {
	return typ.(tftypes.Object).AttributeTypes[name]
}

// otherValue is a value of typ other than the ones issuedState holds.
func otherValue(typ tftypes.Type, rng *rand.Rand) tftypes.Value {
	switch {
	case typ.Is(tftypes.String):
		return tftypes.NewValue(typ, fmt.Sprintf("other-%d", rng.IntN(3)))
	case typ.Is(tftypes.Bool):
		return tftypes.NewValue(typ, rng.IntN(2) == 0)
	case typ.Is(tftypes.Number):
		return tftypes.NewValue(typ, big.NewFloat(float64(3072+1024*rng.IntN(2))))
	case typ.Is(tftypes.List{}):
		return tftypes.NewValue(typ, []tftypes.Value{tftypes.NewValue(typ.(tftypes.List).ElementType, "other.example")})
	case typ.Is(tftypes.Set{}):
		return tftypes.NewValue(typ, []tftypes.Value{tftypes.NewValue(typ.(tftypes.Set).ElementType, "key_encipherment")})
	case typ.Is(tftypes.Map{}):
		return tftypes.NewValue(typ, map[string]tftypes.Value{"epoch": tftypes.NewValue(typ.(tftypes.Map).ElementType, "2")})
	}
	return tftypes.NewValue(typ, nil)
}

// jsonOf is v as Terraform stores it in a state file.
func jsonOf(v tftypes.Value) any {
	if v.IsNull() {
		return nil
	}
	typ := v.Type()
	switch {
	case typ.Is(tftypes.String):
		var s string
		_ = v.As(&s)
		return s
	case typ.Is(tftypes.Bool):
		var x bool
		_ = v.As(&x)
		return x
	case typ.Is(tftypes.Number):
		var f big.Float
		_ = v.As(&f)
		return json.Number(f.Text('g', -1))
	case typ.Is(tftypes.Object{}):
		var attrs map[string]tftypes.Value
		_ = v.As(&attrs)
		out := map[string]any{}
		for k, a := range attrs {
			out[k] = jsonOf(a)
		}
		return out
	case typ.Is(tftypes.Map{}):
		var elems map[string]tftypes.Value
		_ = v.As(&elems)
		out := map[string]any{}
		for k, a := range elems {
			out[k] = jsonOf(a)
		}
		return out
	}
	var elems []tftypes.Value
	_ = v.As(&elems)
	out := []any{}
	for _, e := range elems {
		out = append(out, jsonOf(e))
	}
	return out
}

// TestNoChangeServerReadsSchema checks what noChangeServer takes from the
// certificate schema: its version, its write-only attributes and its
// defaults, and that it leaves resource types without noChangeRules to
// the framework.
func TestNoChangeServerReadsSchema(t *testing.T) {
	ctx := context.Background()
	s := newNoChangeServer(New("test")(), nil)
	cert := s.types["cmpv2_certificate"]
	if cert == nil {
		t.Fatal("cmpv2_certificate not taken")
	}
	var rs resource.SchemaResponse
	(&certificateResource{}).Schema(ctx, resource.SchemaRequest{}, &rs)
	if cert.version != rs.Schema.Version || !cert.typ.Equal(rs.Schema.Type().TerraformType(ctx)) {
		t.Errorf("version %d type %v, want the schema's", cert.version, cert.typ)
	}
	if len(cert.writeOnly) == 0 {
		t.Error("no write-only attribute found; the schema has enrollment.secret_wo")
	}
	for _, p := range cert.writeOnly {
		if !strings.HasSuffix(p.String(), `_wo")`) {
			t.Errorf("write-only %s: not a write-only attribute", p)
		}
	}
	found := map[string]tftypes.Value{}
	for _, d := range cert.defaults {
		found[d.path.String()] = d.value
	}
	want := map[string]tftypes.Value{
		`AttributeName("key_algorithm")`: tftypes.NewValue(tftypes.String, defaultKeyAlgorithm),
		`AttributeName("ecdsa_curve")`:   tftypes.NewValue(tftypes.String, defaultECDSACurve),
		`AttributeName("rsa_bits")`:      tftypes.NewValue(tftypes.Number, big.NewFloat(defaultRSABits)),
	}
	for p, v := range want {
		if got, ok := found[p]; !ok || !got.Equal(v) {
			t.Errorf("default at %s: %v, want %v (found %v)", p, got, v, found)
		}
	}
	if s.types["cmpv2_server"] != nil {
		t.Error("cmpv2_server taken without noChangeRules")
	}
}

// BenchmarkNoChangeServer measures the three calls of a plan that changes
// nothing, as the framework's server answers them and as noChangeServer
// does: the per-certificate cost of `terraform plan` in the provider.
func BenchmarkNoChangeServer(b *testing.B) {
	nb := newNoChangeBenchFor(b)
	nb.clock.Set(t0.Add(time.Hour))
	state := nb.dynamic(b, nb.base)
	config := nb.base
	for _, name := range nb.computedOnly {
		config = withAttr(config, name, tftypes.NewValue(attrType(nb.typ, name), nil))
	}
	for _, d := range nb.cert.defaults {
		if len(d.path.Steps()) == 1 {
			config = withPath(config, d.path, tftypes.NewValue(d.value.Type(), nil))
		}
	}
	config = withAttr(config, "private_key_pem", tftypes.NewValue(tftypes.String, nil))
	raw, err := json.Marshal(jsonOf(nb.base))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	plan := &tfprotov6.PlanResourceChangeRequest{TypeName: "cmpv2_certificate", PriorState: state, ProposedNewState: state, Config: nb.dynamic(b, config)}
	read := &tfprotov6.ReadResourceRequest{TypeName: "cmpv2_certificate", CurrentState: state}
	upgrade := &tfprotov6.UpgradeResourceStateRequest{TypeName: "cmpv2_certificate", Version: nb.cert.version, RawState: &tfprotov6.RawState{JSON: raw}}
	for _, s := range []struct {
		name   string
		server tfprotov6.ProviderServer
	}{{"framework", nb.plain}, {"noChangeServer", nb.wrapped}} {
		b.Run(s.name+"/plan", func(b *testing.B) {
			for b.Loop() {
				if resp, err := s.server.PlanResourceChange(ctx, plan); err != nil || len(resp.Diagnostics) > 0 {
					b.Fatal(err, resp.Diagnostics)
				}
			}
		})
		b.Run(s.name+"/read", func(b *testing.B) {
			for b.Loop() {
				if resp, err := s.server.ReadResource(ctx, read); err != nil || len(resp.Diagnostics) > 0 {
					b.Fatal(err, resp.Diagnostics)
				}
			}
		})
		b.Run(s.name+"/upgrade", func(b *testing.B) {
			for b.Loop() {
				if resp, err := s.server.UpgradeResourceState(ctx, upgrade); err != nil || len(resp.Diagnostics) > 0 {
					b.Fatal(err, resp.Diagnostics)
				}
			}
		})
	}
	if n := nb.passed.plan.Load() + nb.passed.read.Load() + nb.passed.upgrade.Load(); n != 0 {
		b.Errorf("noChangeServer handed %d of these calls to the framework", n)
	}
}
