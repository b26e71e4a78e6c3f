package main

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/provider"
)

// TestFloorSchemaMatchesCertificate fails when the floor's schema drifts
// from cmpv2_certificate's: every attribute and block with the same name,
// type, optionality, sensitivity, write-only flag and default, and the
// floor's plan modifiers (UseStateForUnknown) among the real ones. A ratio
// against a floor with another schema would measure something else.
func TestFloorSchemaMatchesCertificate(t *testing.T) {
	ctx := context.Background()
	var real resource.SchemaResponse
	realCertificateResource(t).Schema(ctx, resource.SchemaRequest{}, &real)
	if real.Diagnostics.HasError() {
		t.Fatalf("certificate schema: %v", real.Diagnostics)
	}
	floor := certificateSchema(ctx)
	if floor.Version != real.Schema.Version {
		t.Errorf("schema version: floor %d, cmpv2_certificate %d", floor.Version, real.Schema.Version)
	}
	compareAttributes(t, "", real.Schema.Attributes, floor.Attributes)

	if got, want := slices.Sorted(maps.Keys(floor.Blocks)), slices.Sorted(maps.Keys(real.Schema.Blocks)); !slices.Equal(got, want) {
		t.Errorf("blocks: floor has %v, cmpv2_certificate has %v", got, want)
	}
	for name, block := range real.Schema.Blocks {
		if fb, ok := floor.Blocks[name]; ok && !fb.Type().Equal(block.Type()) {
			t.Errorf("block %s: floor type %s, cmpv2_certificate type %s", name, fb.Type(), block.Type())
		}
	}
}

// realCertificateResource is the real provider's cmpv2_certificate.
func realCertificateResource(t *testing.T) resource.Resource {
	t.Helper()
	ctx := context.Background()
	for _, factory := range provider.New("test")().Resources(ctx) {
		r := factory()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "cmpv2"}, &md)
		if md.TypeName == "cmpv2_certificate" {
			return r
		}
	}
	t.Fatal("the provider has no cmpv2_certificate resource")
	return nil
}

func compareAttributes(t *testing.T, prefix string, real, floor map[string]schema.Attribute) {
	t.Helper()
	for name, ra := range real {
		fa, ok := floor[name]
		if !ok {
			t.Errorf("%s%s: in cmpv2_certificate, missing from the floor", prefix, name)
			continue
		}
		path := prefix + name
		if !fa.GetType().Equal(ra.GetType()) {
			t.Errorf("%s: floor type %s, cmpv2_certificate type %s", path, fa.GetType(), ra.GetType())
			continue
		}
		flags := func(a schema.Attribute) [5]bool {
			return [5]bool{a.IsOptional(), a.IsRequired(), a.IsComputed(), a.IsSensitive(), a.IsWriteOnly()}
		}
		if flags(fa) != flags(ra) {
			t.Errorf("%s: floor [optional required computed sensitive write-only] = %v, cmpv2_certificate %v", path, flags(fa), flags(ra))
		}
		if fd, rd := defaultValue(t, fa), defaultValue(t, ra); (fd == nil) != (rd == nil) || (fd != nil && !fd.Equal(rd)) {
			t.Errorf("%s: floor default %v, cmpv2_certificate default %v", path, fd, rd)
		}
		for _, m := range stringModifiers(fa) {
			if !slices.Contains(stringModifiers(ra), m) {
				t.Errorf("%s: the floor's plan modifier %q is not one of cmpv2_certificate's", path, m)
			}
		}
		if rn, ok := ra.(schema.SingleNestedAttribute); ok {
			compareAttributes(t, path+".", rn.Attributes, fa.(schema.SingleNestedAttribute).Attributes)
		}
	}
	for name := range floor {
		if _, ok := real[name]; !ok {
			t.Errorf("%s%s: in the floor, not in cmpv2_certificate", prefix, name)
		}
	}
}

// defaultValue is the value an attribute's default plans, or nil.
func defaultValue(t *testing.T, a schema.Attribute) attr.Value {
	t.Helper()
	ctx := context.Background()
	switch a := a.(type) {
	case schema.StringAttribute:
		if a.Default != nil {
			var resp defaults.StringResponse
			a.Default.DefaultString(ctx, defaults.StringRequest{}, &resp)
			return resp.PlanValue
		}
	case schema.Int64Attribute:
		if a.Default != nil {
			var resp defaults.Int64Response
			a.Default.DefaultInt64(ctx, defaults.Int64Request{}, &resp)
			return resp.PlanValue
		}
	case schema.BoolAttribute:
		if a.Default != nil {
			var resp defaults.BoolResponse
			a.Default.DefaultBool(ctx, defaults.BoolRequest{}, &resp)
			return resp.PlanValue
		}
	}
	return nil
}

// stringModifiers are the descriptions of a string attribute's plan
// modifiers.
func stringModifiers(a schema.Attribute) []string {
	s, ok := a.(schema.StringAttribute)
	if !ok {
		return nil
	}
	var out []string
	for _, m := range s.PlanModifiers {
		out = append(out, m.Description(context.Background()))
	}
	return out
}
