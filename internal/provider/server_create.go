package provider

import (
	"context"
	"reflect"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The plan of a new resource instance is the other call the framework
// answers by walking the whole schema (once per top-level attribute in
// SchemaModifyPlan alone), and an apply of N certificates makes 2N of them.
// noChangeServer plans a create itself the way the framework does: the
// proposed new state, with each default planned where the configuration
// leaves its attribute null, write-only values nulled, and each computed
// attribute without a default that the configuration leaves null unknown;
// then the resource's own create rule (createPlanner), on a resource
// configured with the provider's configured data as the framework
// configures it. A plan modifier that may act on a create (anything but
// UseStateForUnknown, which keeps a prior state there is none of), or a
// computed attribute inside a list, set or map, leaves the type's creates
// to the framework. TestCreatePlanMatchesFramework requires the same
// responses.

// createPlanner is the resource's ModifyPlan of a create, on the planned
// value as the framework hands it to ModifyPlan.
type createPlanner interface {
	planCreate(ctx context.Context, config tftypes.Value, planned *tftypes.Value) diag.Diagnostics
}

// configuredProvider is a provider that keeps what its Configure gave its
// resources, for the resources the protocol server configures itself.
type configuredProvider interface {
	resourceData() any
}

// configuredData holds a provider's configured resource data.
type configuredData struct{ v atomic.Pointer[any] }

func (c *configuredData) set(v any) { c.v.Store(&v) }

func (c *configuredData) resourceData() any {
	if p := c.v.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *noChangeServer) planCreate(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) *tfprotov6.PlanResourceChangeResponse {
	t := s.types[req.TypeName]
	cp, ok := s.provider.(configuredProvider)
	if t == nil || !t.planOK || !t.createOK || !ok || req.ProposedNewState == nil || req.Config == nil ||
		req.PriorIdentity != nil || len(req.PriorPrivate) > 0 || req.ProviderMeta != nil {
		return nil
	}
	if req.PriorState != nil {
		if prior, err := req.PriorState.Unmarshal(t.typ); err != nil || !prior.IsNull() {
			return nil
		}
	}
	config, err := req.Config.Unmarshal(t.typ)
	if err != nil || config.IsNull() || !config.IsKnown() {
		return nil
	}
	planned, err := req.ProposedNewState.Unmarshal(t.typ)
	if err != nil || planned.IsNull() || !planned.IsKnown() {
		return nil
	}
	r := t.factory()
	planner, ok := r.(createPlanner)
	if !ok {
		return nil
	}
	if rc, ok := r.(resource.ResourceWithConfigure); ok {
		var resp resource.ConfigureResponse
		rc.Configure(ctx, resource.ConfigureRequest{ProviderData: cp.resourceData()}, &resp)
		if len(resp.Diagnostics) > 0 {
			return nil
		}
	}
	for _, d := range t.defaults {
		if _, ok := valueAt(planned, d.path); !ok {
			continue // inside a null or unknown object: not planned
		}
		if cv, ok := valueAt(config, d.path); !ok || cv.IsNull() {
			planned = withValueAt(planned, d.path, d.value)
		}
	}
	for _, p := range t.writeOnly {
		if v, ok := valueAt(planned, p); ok && !v.IsNull() {
			planned = withValueAt(planned, p, tftypes.NewValue(v.Type(), nil))
		}
	}
	for _, p := range t.computed {
		v, ok := valueAt(planned, p)
		if !ok || !configNullAt(config, p) {
			continue
		}
		planned = withValueAt(planned, p, tftypes.NewValue(v.Type(), tftypes.UnknownValue))
	}
	diags := planner.planCreate(ctx, config, &planned)
	dv, err := tfprotov6.NewDynamicValue(t.typ, planned)
	if err != nil {
		diags.AddError("Unable to Convert State", "An unexpected error was encountered when converting the "+
			"planned state to the protocol type. This is always an issue in the provider: "+err.Error())
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: protoDiagnostics(diags)}
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: &dv, Diagnostics: protoDiagnostics(diags)}
}

// configNullAt reports whether config is null at p, or at an object on
// the way to it; an unknown object on the way is not null.
func configNullAt(config tftypes.Value, p *tftypes.AttributePath) bool {
	v := config
	for _, step := range p.Steps() {
		if v.IsNull() {
			return true
		}
		if !v.IsKnown() {
			return false
		}
		var attrs map[string]tftypes.Value
		if err := v.As(&attrs); err != nil {
			return false
		}
		v = attrs[string(step.(tftypes.AttributeName))]
	}
	return v.IsNull()
}

// withValueAt is object v with the value at p (attribute names only,
// every object on the way known and not null) set to nv.
func withValueAt(v tftypes.Value, p *tftypes.AttributePath, nv tftypes.Value) tftypes.Value {
	steps := p.Steps()
	if len(steps) == 0 {
		return nv
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		panic(err) // valueAt found the path
	}
	out := make(map[string]tftypes.Value, len(attrs))
	for k, a := range attrs {
		out[k] = a
	}
	name := string(steps[0].(tftypes.AttributeName))
	out[name] = withValueAt(attrs[name], tftypes.NewAttributePathWithSteps(steps[1:]), nv)
	return tftypes.NewValue(v.Type(), out)
}

// protoDiagnostics is diags as the framework sends them.
func protoDiagnostics(diags diag.Diagnostics) []*tfprotov6.Diagnostic {
	var out []*tfprotov6.Diagnostic
	for _, d := range diags {
		pd := &tfprotov6.Diagnostic{Summary: d.Summary(), Detail: d.Detail(), Severity: tfprotov6.DiagnosticSeverityInvalid}
		switch d.Severity() {
		case diag.SeverityError:
			pd.Severity = tfprotov6.DiagnosticSeverityError
		case diag.SeverityWarning:
			pd.Severity = tfprotov6.DiagnosticSeverityWarning
		}
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			pd.Attribute = protoPath(wp.Path())
		}
		out = append(out, pd)
	}
	return out
}

// protoPath is p as a protocol attribute path.
func protoPath(p path.Path) *tftypes.AttributePath {
	out := tftypes.NewAttributePath()
	for _, step := range p.Steps() {
		switch s := step.(type) {
		case path.PathStepAttributeName:
			out = out.WithAttributeName(string(s))
		case path.PathStepElementKeyInt:
			out = out.WithElementKeyInt(int(s))
		case path.PathStepElementKeyString:
			out = out.WithElementKeyString(string(s))
		case path.PathStepElementKeyValue:
			v, err := s.Value.ToTerraformValue(context.Background())
			if err != nil {
				return nil
			}
			out = out.WithElementKeyValue(v)
		}
	}
	return out
}

// keepsCreate are the plan modifiers that leave the plan of a create as it
// is: UseStateForUnknown, of each kind, keeps the prior state's value and
// does nothing without one.
var keepsCreate = map[reflect.Type]bool{
	reflect.TypeOf(stringplanmodifier.UseStateForUnknown()): true,
	reflect.TypeOf(boolplanmodifier.UseStateForUnknown()):   true,
	reflect.TypeOf(int64planmodifier.UseStateForUnknown()):  true,
	reflect.TypeOf(listplanmodifier.UseStateForUnknown()):   true,
	reflect.TypeOf(setplanmodifier.UseStateForUnknown()):    true,
	reflect.TypeOf(mapplanmodifier.UseStateForUnknown()):    true,
	reflect.TypeOf(objectplanmodifier.UseStateForUnknown()): true,
}

// modifiersKeepCreate reports whether every plan modifier of a (an
// attribute or a block: each kind keeps them in its PlanModifiers field)
// is one of keepsCreate.
func modifiersKeepCreate(a any) bool {
	mods := reflect.ValueOf(a).FieldByName("PlanModifiers")
	if !mods.IsValid() {
		return false // a kind without the field: its creates go to the framework
	}
	for i := range mods.Len() {
		if m := mods.Index(i); m.IsNil() || !keepsCreate[m.Elem().Type()] {
			return false
		}
	}
	return true
}
