package provider

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// A plan of N unchanged resources makes 3N calls that change nothing:
// UpgradeResourceState at the current version, ReadResource, and
// PlanResourceChange with the prior state proposed. The framework answers
// each by walking the whole schema several times (docs/guides/performance.md
// names the walks). noChangeServer answers those calls itself, with the
// response the framework would give, and hands every other call, and every
// call it is not sure about, to the framework's server. What it needs of a
// resource type (its value type, schema version, defaults and write-only
// attributes) it reads from the type's schema when it starts; what a
// resource decides for itself (whether the clock moves anything) it asks
// the resource (noChangeRules). TestNoChangeServerMatchesFramework feeds
// generated requests to both servers and requires the same responses.
// Two things would change the framework's answers and are not handled
// here: a provider that defers (this one's Configure never does) and
// resource identities (a request that carries one goes to the framework).

// NewServer returns the provider's protocol server factory, for
// tf6server.Serve.
func NewServer(version string) func() tfprotov6.ProviderServer {
	return newServer(version, clock{})
}

// newServer is NewServer with the certificate resources' clock c.
func newServer(version string, c clock) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		p := newProvider(version, c)()
		return newNoChangeServer(p, providerserver.NewProtocol6(p)())
	}
}

// noChangeRules is what a resource type tells noChangeServer about calls
// that change nothing. private is the provider's part of the private
// state, by key.
type noChangeRules interface {
	// planStands reports whether ModifyPlan, given the prior state as the
	// plan, returns it unchanged, with no diagnostic and the private state
	// as it is.
	planStands(state tftypes.Value, private map[string][]byte) bool
	// readStands reports whether Read returns the state unchanged, with
	// no diagnostic and the private state as it is.
	readStands(state tftypes.Value) bool
}

type noChangeServer struct {
	tfprotov6.ProviderServer
	types map[string]*noChangeType
	// provider is the provider the framework's server configures; its
	// configured data configures the resources that plan creates.
	provider provider.Provider
}

// noChangeType is one resource type's schema, as noChangeServer needs it.
type noChangeType struct {
	rules   noChangeRules
	typ     tftypes.Type
	version int64
	// writeOnly are the paths of write-only attributes, which the
	// framework nulls in every plan and state.
	writeOnly []*tftypes.AttributePath
	// defaults are the attributes with a default: the framework plans the
	// default wherever the configuration leaves one null.
	defaults []schemaDefault
	// planOK is false when a default or write-only attribute sits where
	// paths cannot be listed (inside a list, set or map of objects): then
	// the framework plans every change of this type.
	planOK bool
	// What the plan of a create needs (server_create.go): the computed
	// attributes without a default, outermost first; createOK, false when
	// a plan modifier of the schema may change a create's plan or a
	// computed attribute sits where paths cannot be listed; and a resource
	// to plan with.
	computed []*tftypes.AttributePath
	createOK bool
	factory  func() resource.Resource
}

type schemaDefault struct {
	path  *tftypes.AttributePath
	value tftypes.Value
}

// newNoChangeServer wraps next, the framework's server of p. Resource
// types that do not implement noChangeRules are left to next entirely.
func newNoChangeServer(p provider.Provider, next tfprotov6.ProviderServer) *noChangeServer {
	ctx := context.Background()
	s := &noChangeServer{ProviderServer: next, types: map[string]*noChangeType{}, provider: p}
	var md provider.MetadataResponse
	p.Metadata(ctx, provider.MetadataRequest{}, &md)
	for _, factory := range p.Resources(ctx) {
		r := factory()
		rules, ok := r.(noChangeRules)
		if !ok {
			continue
		}
		var name resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: md.TypeName}, &name)
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		if sr.Diagnostics.HasError() {
			continue // the framework reports it on every call
		}
		t := &noChangeType{rules: rules, typ: sr.Schema.Type().TerraformType(ctx), version: sr.Schema.Version, planOK: true,
			createOK: true, factory: factory}
		t.readSchema(ctx, tftypes.NewAttributePath(), sr.Schema.Attributes, sr.Schema.Blocks)
		// In path order, not the schema maps' random one, so that what
		// reads them (the checks, the generated tests) runs the same way
		// every time.
		slices.SortFunc(t.writeOnly, func(a, b *tftypes.AttributePath) int { return strings.Compare(a.String(), b.String()) })
		slices.SortFunc(t.defaults, func(a, b schemaDefault) int { return strings.Compare(a.path.String(), b.path.String()) })
		slices.SortFunc(t.computed, func(a, b *tftypes.AttributePath) int { return strings.Compare(a.String(), b.String()) })
		s.types[name.TypeName] = t
	}
	return s
}

// readSchema collects the defaults and write-only paths under p.
func (t *noChangeType) readSchema(ctx context.Context, p *tftypes.AttributePath, attrs map[string]schema.Attribute, blocks map[string]schema.Block) {
	for name, a := range attrs {
		ap := p.WithAttributeName(name)
		if a.IsWriteOnly() {
			t.writeOnly = append(t.writeOnly, ap)
		}
		v, hasDefault, static := staticDefault(ctx, a, ap)
		switch {
		case static:
			t.defaults = append(t.defaults, schemaDefault{path: ap, value: v})
		case hasDefault:
			// The framework asks a default on every plan and passes its
			// diagnostics on; this server asks once, when it starts,
			// which plans alike only for the framework's static defaults.
			t.planOK = false
		}
		if a.IsComputed() && !hasDefault {
			t.computed = append(t.computed, ap)
		}
		if !modifiersKeepCreate(a) {
			t.createOK = false
		}
		switch n := a.(type) {
		case schema.SingleNestedAttribute:
			t.readSchema(ctx, ap, n.Attributes, nil)
		case schema.NestedAttribute:
			obj, ok := n.GetNestedObject().(schema.NestedAttributeObject)
			if !ok || hasDefaultsOrWriteOnly(ctx, obj.Attributes, nil) {
				t.planOK = false
			}
			t.createOK = false
		}
	}
	for name, b := range blocks {
		bp := p.WithAttributeName(name)
		switch b := b.(type) {
		case schema.SingleNestedBlock:
			if !modifiersKeepCreate(b) {
				t.createOK = false
			}
			t.readSchema(ctx, bp, b.Attributes, b.Blocks)
		case schema.ListNestedBlock:
			if hasDefaultsOrWriteOnly(ctx, b.NestedObject.Attributes, b.NestedObject.Blocks) {
				t.planOK = false
			}
			t.createOK = false
		case schema.SetNestedBlock:
			if hasDefaultsOrWriteOnly(ctx, b.NestedObject.Attributes, b.NestedObject.Blocks) {
				t.planOK = false
			}
			t.createOK = false
		default:
			// A block kind this server does not know: leave its plans to
			// the framework.
			t.planOK = false
		}
	}
}

func hasDefaultsOrWriteOnly(ctx context.Context, attrs map[string]schema.Attribute, blocks map[string]schema.Block) bool {
	probe := &noChangeType{planOK: true}
	probe.readSchema(ctx, tftypes.NewAttributePath(), attrs, blocks)
	return len(probe.defaults) > 0 || len(probe.writeOnly) > 0 || !probe.planOK
}

// staticDefault is the value a's default plans when it is one of the
// framework's static string, bool or int64 defaults (static), which plan
// one value and say nothing; has reports whether a has a default at all
// (every resource attribute kind keeps it in its Default field). Any other
// default, an object's among them (the framework plans it as it is,
// without the defaults of the attributes inside), leaves the type's plans
// to the framework.
func staticDefault(ctx context.Context, a schema.Attribute, p *tftypes.AttributePath) (v tftypes.Value, has, static bool) {
	f := reflect.ValueOf(a).FieldByName("Default")
	if !f.IsValid() || f.IsNil() {
		return tftypes.Value{}, false, false
	}
	fp := frameworkPath(p)
	var planned attr.Value
	switch d := f.Interface().(type) {
	case defaults.String:
		if reflect.TypeOf(d) != reflect.TypeOf(stringdefault.StaticString("")) {
			return tftypes.Value{}, true, false
		}
		var resp defaults.StringResponse
		d.DefaultString(ctx, defaults.StringRequest{Path: fp}, &resp)
		planned = resp.PlanValue
	case defaults.Bool:
		if reflect.TypeOf(d) != reflect.TypeOf(booldefault.StaticBool(false)) {
			return tftypes.Value{}, true, false
		}
		var resp defaults.BoolResponse
		d.DefaultBool(ctx, defaults.BoolRequest{Path: fp}, &resp)
		planned = resp.PlanValue
	case defaults.Int64:
		if reflect.TypeOf(d) != reflect.TypeOf(int64default.StaticInt64(0)) {
			return tftypes.Value{}, true, false
		}
		var resp defaults.Int64Response
		d.DefaultInt64(ctx, defaults.Int64Request{Path: fp}, &resp)
		planned = resp.PlanValue
	default:
		return tftypes.Value{}, true, false
	}
	tv, err := planned.ToTerraformValue(ctx)
	return tv, true, err == nil
}

// frameworkPath is p (attribute names only) as a framework path.
func frameworkPath(p *tftypes.AttributePath) path.Path {
	var fp path.Path
	for i, step := range p.Steps() {
		name := string(step.(tftypes.AttributeName))
		if i == 0 {
			fp = path.Root(name)
		} else {
			fp = fp.AtName(name)
		}
	}
	return fp
}

// PlanResourceChange answers a plan whose proposed new state is the prior
// state, fully known, that holds the schema's defaults wherever the
// configuration leaves them out, and that the resource keeps as it is.
// The framework would return the proposed state, the private state as it
// was, and nothing else.
func (s *noChangeServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if resp := s.planNoChange(req); resp != nil {
		return resp, nil
	}
	if resp := s.planCreate(ctx, req); resp != nil {
		return resp, nil
	}
	return s.ProviderServer.PlanResourceChange(ctx, req)
}

func (s *noChangeServer) planNoChange(req *tfprotov6.PlanResourceChangeRequest) *tfprotov6.PlanResourceChangeResponse {
	t := s.types[req.TypeName]
	if t == nil || !t.planOK || req.PriorState == nil || req.ProposedNewState == nil || req.Config == nil || req.PriorIdentity != nil {
		return nil
	}
	prior, err := req.PriorState.Unmarshal(t.typ)
	if err != nil || prior.IsNull() || !prior.IsFullyKnown() {
		return nil
	}
	proposed, err := req.ProposedNewState.Unmarshal(t.typ)
	if err != nil || !proposed.Equal(prior) {
		return nil
	}
	config, err := req.Config.Unmarshal(t.typ)
	// Terraform proposes the configuration's write-only values (they are
	// neither computed nor stored), so a configuration that holds one goes
	// to the framework: ModifyPlan checks a write-only key, and a write-only
	// PKCS#12 password asks for a bundle.
	if err != nil || !t.writeOnlyNull(proposed) || !t.writeOnlyNull(config) || !t.holdsDefaults(proposed, config) {
		return nil
	}
	private, providerPart, _, ok := privateAsFrameworkWrites(req.PriorPrivate)
	if !ok || !t.rules.planStands(prior, providerPart) {
		return nil
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: private}
}

// ReadResource answers a read that the resource says leaves the state as
// it is, of a state without write-only values and without the framework's
// own private marks (the one after an import).
func (s *noChangeServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	if resp := s.readNoChange(req); resp != nil {
		return resp, nil
	}
	return s.ProviderServer.ReadResource(ctx, req)
}

func (s *noChangeServer) readNoChange(req *tfprotov6.ReadResourceRequest) *tfprotov6.ReadResourceResponse {
	t := s.types[req.TypeName]
	if t == nil || req.CurrentState == nil || req.CurrentIdentity != nil {
		return nil
	}
	state, err := req.CurrentState.Unmarshal(t.typ)
	if err != nil || state.IsNull() || !state.IsFullyKnown() || !t.writeOnlyNull(state) {
		return nil
	}
	private, _, frameworkKeys, ok := privateAsFrameworkWrites(req.Private)
	if !ok || frameworkKeys || !t.rules.readStands(state) {
		return nil
	}
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: private}
}

// UpgradeResourceState answers a state stored at the current schema
// version: the framework decodes it with the current type, leaving out
// attributes the schema no longer has, and returns it.
func (s *noChangeServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if t := s.types[req.TypeName]; t != nil && req.RawState != nil && req.RawState.JSON != nil && req.Version == t.version {
		v, err := req.RawState.UnmarshalWithOpts(t.typ, tfprotov6.UnmarshalOpts{
			ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true},
		})
		if err == nil {
			if dv, err := tfprotov6.NewDynamicValue(t.typ, v); err == nil {
				return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &dv}, nil
			}
		}
	}
	return s.ProviderServer.UpgradeResourceState(ctx, req)
}

// writeOnlyNull reports whether every write-only attribute of v is null
// (or sits in a null object).
func (t *noChangeType) writeOnlyNull(v tftypes.Value) bool {
	for _, p := range t.writeOnly {
		if w, ok := valueAt(v, p); ok && !w.IsNull() {
			return false
		}
	}
	return true
}

// holdsDefaults reports whether plan holds, at every attribute with a
// default that config leaves null, the default: there the framework would
// plan the default. An attribute inside a null object has no default
// applied.
func (t *noChangeType) holdsDefaults(plan, config tftypes.Value) bool {
	for _, d := range t.defaults {
		pv, ok := valueAt(plan, d.path)
		if !ok {
			continue
		}
		if cv, ok := valueAt(config, d.path); ok && !cv.IsNull() {
			continue
		}
		if !pv.Equal(d.value) {
			return false
		}
	}
	return true
}

// valueAt is the value at p (attribute names only), and false when an
// object on the way is null or unknown.
func valueAt(v tftypes.Value, p *tftypes.AttributePath) (tftypes.Value, bool) {
	for _, step := range p.Steps() {
		if v.IsNull() || !v.IsKnown() {
			return tftypes.Value{}, false
		}
		var attrs map[string]tftypes.Value
		if err := v.As(&attrs); err != nil {
			return tftypes.Value{}, false
		}
		v = attrs[string(step.(tftypes.AttributeName))]
	}
	return v, true
}

// privateAsFrameworkWrites decodes private state bytes the way the
// framework does (a JSON object of base64 values, each valid UTF-8 JSON)
// and returns the bytes the framework writes back when nothing changed
// them, the provider's part (keys not starting with ".") and whether
// there are framework keys. ok is false for bytes the framework would
// refuse or discard: then the framework answers.
func privateAsFrameworkWrites(b []byte) (out []byte, providerPart map[string][]byte, frameworkKeys, ok bool) {
	if len(b) == 0 {
		return nil, nil, false, true
	}
	var m map[string][]byte
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, false, false
	}
	if len(m) == 0 {
		return nil, nil, false, true
	}
	providerPart = make(map[string][]byte, len(m))
	for k, v := range m {
		if !utf8.Valid(v) || !json.Valid(v) {
			return nil, nil, false, false
		}
		if strings.HasPrefix(k, ".") {
			frameworkKeys = true
		} else {
			providerPart[k] = v
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, nil, false, false
	}
	return out, providerPart, frameworkKeys, true
}
