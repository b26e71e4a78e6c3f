package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// A synthetic provider with one resource type whose schema is attrs, to
// test noChangeServer's generic create planning against the framework.
type synthProvider struct {
	configuredData
	attrs map[string]schema.Attribute
}

func (p *synthProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "synth"
}
func (p *synthProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{}
}
func (p *synthProvider) Configure(_ context.Context, _ provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	resp.ResourceData = "data"
	p.set("data")
}
func (p *synthProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &synthResource{attrs: p.attrs} }}
}
func (p *synthProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

type synthResource struct{ attrs map[string]schema.Attribute }

func (r *synthResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_thing"
}
func (r *synthResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: r.attrs}
}
func (r *synthResource) Create(context.Context, resource.CreateRequest, *resource.CreateResponse) {}
func (r *synthResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse)       {}
func (r *synthResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}
func (r *synthResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
func (r *synthResource) planStands(tftypes.Value, map[string][]byte) bool                         { return false }
func (r *synthResource) readStands(tftypes.Value) bool                                            { return false }
func (r *synthResource) planCreate(context.Context, tftypes.Value, *tftypes.Value) diag.Diagnostics {
	return nil
}

// warnDefault is a string default that warns on every call, as a default
// that is not static may.
type warnDefault struct{}

func (d warnDefault) Description(context.Context) string         { return "" }
func (d warnDefault) MarkdownDescription(context.Context) string { return "" }
func (d warnDefault) DefaultString(_ context.Context, req defaults.StringRequest, resp *defaults.StringResponse) {
	resp.Diagnostics.AddAttributeWarning(req.Path, "default warns", "call")
	resp.PlanValue = types.StringValue("w")
}

// synthCompare plans the create of config (proposed = config) twice on
// the framework's server and twice on noChangeServer, requires the same
// answers, and returns noChangeServer's view of the type.
func synthCompare(t *testing.T, attrs map[string]schema.Attribute, config tftypes.Value) *noChangeType {
	t.Helper()
	ctx := context.Background()
	var seen *noChangeType
	newSrv := func(wrap bool) tfprotov6.ProviderServer {
		p := &synthProvider{attrs: attrs}
		fw := providerserver.NewProtocol6(p)()
		var s tfprotov6.ProviderServer = fw
		if wrap {
			ns := newNoChangeServer(p, fw)
			seen = ns.types["synth_thing"]
			s = ns
		}
		if _, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{}); err != nil {
			t.Fatal(err)
		}
		pt := tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}
		dv, _ := tfprotov6.NewDynamicValue(pt, tftypes.NewValue(pt, map[string]tftypes.Value{}))
		if r, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &dv}); err != nil || len(r.Diagnostics) > 0 {
			t.Fatal(err, r.Diagnostics)
		}
		return s
	}
	typ := config.Type()
	dyn := func(v tftypes.Value) *tfprotov6.DynamicValue {
		dv, err := tfprotov6.NewDynamicValue(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		return &dv
	}
	req := &tfprotov6.PlanResourceChangeRequest{TypeName: "synth_thing", PriorState: dyn(tftypes.NewValue(typ, nil)),
		ProposedNewState: dyn(config), Config: dyn(config)}
	diagText := func(ds []*tfprotov6.Diagnostic) []string {
		var out []string
		for _, d := range ds {
			out = append(out, fmt.Sprintf("%s %q at %v", d.Severity, d.Summary, d.Attribute))
		}
		return out
	}
	fw, nc := newSrv(false), newSrv(true)
	for i := range 2 {
		want, err1 := fw.PlanResourceChange(ctx, req)
		got, err2 := nc.PlanResourceChange(ctx, req)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		w, _ := want.PlannedState.Unmarshal(typ)
		g, _ := got.PlannedState.Unmarshal(typ)
		if !w.Equal(g) || fmt.Sprint(diagText(want.Diagnostics)) != fmt.Sprint(diagText(got.Diagnostics)) {
			t.Errorf("plan %d: noChangeServer planned %v with %v, the framework %v with %v", i, g,
				diagText(got.Diagnostics), w, diagText(want.Diagnostics))
		}
	}
	return seen
}

var synthInner = map[string]attr.Type{"a": types.StringType}

// An object default with, inside it, an attribute with its own default;
// the configuration leaves the object out. The framework plans the object
// as its default gives it, so the type is left to the framework.
func TestCreatePlanObjectDefault(t *testing.T) {
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true},
		"obj": schema.SingleNestedAttribute{
			Optional: true, Computed: true,
			Default: objectdefault.StaticValue(types.ObjectValueMust(synthInner, map[string]attr.Value{"a": types.StringNull()})),
			Attributes: map[string]schema.Attribute{
				"a": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("x")},
			},
		},
	}
	inner := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"a": tftypes.String}}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String, "obj": inner}}
	if nt := synthCompare(t, attrs, tftypes.NewValue(typ, map[string]tftypes.Value{
		"id": tftypes.NewValue(tftypes.String, nil), "obj": tftypes.NewValue(inner, nil)})); nt == nil || nt.planOK {
		t.Errorf("noChangeServer plans a type with an object default itself: %+v", nt)
	}
}

// A default that is not static, and warns: the framework asks it on every
// plan, so the type is left to the framework.
func TestCreatePlanDefaultNotStatic(t *testing.T) {
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true},
		"w":  schema.StringAttribute{Optional: true, Computed: true, Default: warnDefault{}},
	}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String, "w": tftypes.String}}
	if nt := synthCompare(t, attrs, tftypes.NewValue(typ, map[string]tftypes.Value{
		"id": tftypes.NewValue(tftypes.String, nil), "w": tftypes.NewValue(tftypes.String, nil)})); nt == nil || nt.planOK {
		t.Errorf("noChangeServer plans a type with a default that is not static itself: %+v", nt)
	}
}

// A static default, the kind cmpv2_certificate has: planned here, alike.
func TestCreatePlanStaticDefault(t *testing.T) {
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true},
		"s":  schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("s")},
	}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String, "s": tftypes.String}}
	if nt := synthCompare(t, attrs, tftypes.NewValue(typ, map[string]tftypes.Value{
		"id": tftypes.NewValue(tftypes.String, nil), "s": tftypes.NewValue(tftypes.String, nil)})); nt == nil || !nt.planOK || !nt.createOK {
		t.Errorf("noChangeServer leaves a type with a static default to the framework: %+v", nt)
	}
}

// A plan modifier other than UseStateForUnknown may act on a create: the
// type's creates go to the framework; UseStateForUnknown alone keeps them here.
func TestCreatePlanModifiers(t *testing.T) {
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String, "s": tftypes.String}}
	config := tftypes.NewValue(typ, map[string]tftypes.Value{
		"id": tftypes.NewValue(tftypes.String, nil), "s": tftypes.NewValue(tftypes.String, "x")})
	for _, c := range []struct {
		name     string
		mod      planmodifier.String
		createOK bool
	}{
		{"UseStateForUnknown", stringplanmodifier.UseStateForUnknown(), true},
		{"RequiresReplace", stringplanmodifier.RequiresReplace(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			attrs := map[string]schema.Attribute{
				"id": schema.StringAttribute{Computed: true},
				"s":  schema.StringAttribute{Optional: true, PlanModifiers: []planmodifier.String{c.mod}},
			}
			if nt := synthCompare(t, attrs, config); nt == nil || nt.createOK != c.createOK {
				t.Errorf("createOK with %s: %+v, want %v", c.name, nt, c.createOK)
			}
		})
	}
}
