package main

import (
	"context"
	"fmt"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/serialnumber"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// certificateResource is cmpv2floor_certificate. Create and Update fill
// every unknown computed attribute with the sample's values; Read and
// Delete do nothing. It works on raw values, so it fits any schema with
// cmpv2_certificate's computed attribute names.
type certificateResource struct{}

func newCertificateResource() resource.Resource { return certificateResource{} }

func (certificateResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificate"
}

func (certificateResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = certificateSchema(ctx)
}

func (certificateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	raw, err := complete(req.Plan.Raw, tftypes.NewValue(req.Plan.Raw.Type(), nil), writeOnlyNames(certificateSchema(ctx)))
	if err != nil {
		resp.Diagnostics.AddError("floor create", err.Error())
		return
	}
	resp.State.Raw = raw
}

func (certificateResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (certificateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	raw, err := complete(req.Plan.Raw, req.State.Raw, writeOnlyNames(certificateSchema(ctx)))
	if err != nil {
		resp.Diagnostics.AddError("floor update", err.Error())
		return
	}
	resp.State.Raw = raw
}

func (certificateResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// complete replaces the unknown top-level attributes of plan with the
// values an enrollment would produce, and write-only ones with null.
func complete(plan, prior tftypes.Value, writeOnly map[string]bool) (tftypes.Value, error) {
	s, err := theSample()
	if err != nil {
		return tftypes.Value{}, fmt.Errorf("sample certificate: %w", err)
	}
	var priorAttrs map[string]tftypes.Value
	if !prior.IsNull() {
		if err := prior.As(&priorAttrs); err != nil {
			return tftypes.Value{}, err
		}
	}
	serial, err := serialnumber.Random()
	if err != nil {
		return tftypes.Value{}, err
	}
	return tftypes.Transform(plan, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		steps := p.Steps()
		if len(steps) == 0 {
			return v, nil
		}
		name, _ := steps[len(steps)-1].(tftypes.AttributeName)
		if writeOnly[string(name)] {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		if len(steps) != 1 || v.IsKnown() {
			return v, nil
		}
		return computedValue(string(name), v.Type(), s, serial.String(), priorAttrs)
	})
}

// computedValue is what the floor stores for one computed attribute.
func computedValue(name string, typ tftypes.Type, s sample, serial string, prior map[string]tftypes.Value) (tftypes.Value, error) {
	str := map[string]string{
		"id":              serial,
		"serial_number":   serial,
		"certificate_pem": s.certificatePEM,
		"ca_chain_pem":    s.caChainPEM,
		"private_key_pem": s.privateKeyPEM,
		"not_before":      s.notBefore,
		"not_after":       s.notAfter,
		"renewal_time":    s.renewalTime,
	}
	switch {
	case name == "previous_certificate_pem":
		if old, ok := prior["certificate_pem"]; ok {
			return old, nil
		}
		return tftypes.NewValue(typ, nil), nil
	case name == "last_operation":
		if prior == nil {
			return tftypes.NewValue(typ, "ir"), nil
		}
		return tftypes.NewValue(typ, "kur"), nil
	case typ.Is(tftypes.String):
		if v, ok := str[name]; ok {
			return tftypes.NewValue(typ, v), nil
		}
	case typ.Is(tftypes.Bool):
		return tftypes.NewValue(typ, false), nil
	}
	return tftypes.NewValue(typ, nil), nil
}

// writeOnlyNames lists the names of write-only attributes at any depth;
// their values never reach state.
func writeOnlyNames(s schema.Schema) map[string]bool {
	names := map[string]bool{}
	var walk func(attrs map[string]schema.Attribute)
	walk = func(attrs map[string]schema.Attribute) {
		for name, a := range attrs {
			if a.IsWriteOnly() {
				names[name] = true
			}
			if n, ok := a.(schema.SingleNestedAttribute); ok {
				walk(n.Attributes)
			}
		}
	}
	walk(s.Attributes)
	return names
}
