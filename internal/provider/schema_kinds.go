package provider

import (
	"fmt"

	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	ephschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	resourceschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// The framework has a schema type per kind of object (resource, data
// source, ephemeral resource). The data source cmpv2_ca_certificates and
// the ephemeral cmpv2_certificate take their inputs in the shape the
// resources define (connectionAttributes, credentialAttributes,
// cmpv2_certificate's request attributes), so they are converted here
// rather than written twice: same names, descriptions, sensitivity and
// validators. Plan modifiers and defaults have no place outside a
// resource; write-only attributes are left out (a data source keeps its
// arguments in state, an ephemeral resource keeps nothing).

// dataSourceAttributes converts resource attributes for a data source.
func dataSourceAttributes(attrs map[string]resourceschema.Attribute) map[string]dsschema.Attribute {
	out := make(map[string]dsschema.Attribute, len(attrs))
	for name, a := range attrs {
		switch a := a.(type) {
		case resourceschema.StringAttribute:
			if !a.WriteOnly {
				out[name] = dsschema.StringAttribute{Description: a.Description, Required: a.Required, Optional: a.Optional,
					Computed: a.Computed, Sensitive: a.Sensitive, Validators: a.Validators}
			}
		case resourceschema.BoolAttribute:
			out[name] = dsschema.BoolAttribute{Description: a.Description, Required: a.Required, Optional: a.Optional,
				Computed: a.Computed, Sensitive: a.Sensitive, Validators: a.Validators}
		case resourceschema.SingleNestedAttribute:
			out[name] = dsschema.SingleNestedAttribute{Description: a.Description, Required: a.Required,
				Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, Validators: a.Validators,
				Attributes: dataSourceAttributes(a.Attributes)}
		default:
			panic(fmt.Sprintf("dataSourceAttributes: attribute %q of kind %T has no conversion", name, a))
		}
	}
	return out
}

// ephemeralAttributes converts resource attributes for an ephemeral
// resource, each description (nested ones too) as describe rewrites it.
func ephemeralAttributes(attrs map[string]resourceschema.Attribute, describe func(string) string) map[string]ephschema.Attribute {
	out := make(map[string]ephschema.Attribute, len(attrs))
	for name, a := range attrs {
		switch a := a.(type) {
		case resourceschema.StringAttribute:
			if !a.WriteOnly {
				out[name] = ephschema.StringAttribute{Description: describe(a.Description), Required: a.Required, Optional: a.Optional,
					Computed: a.Computed, Sensitive: a.Sensitive, Validators: a.Validators}
			}
		case resourceschema.BoolAttribute:
			out[name] = ephschema.BoolAttribute{Description: describe(a.Description), Required: a.Required, Optional: a.Optional,
				Computed: a.Computed, Sensitive: a.Sensitive, Validators: a.Validators}
		case resourceschema.Int64Attribute:
			out[name] = ephschema.Int64Attribute{Description: describe(a.Description), Required: a.Required, Optional: a.Optional,
				Computed: a.Computed, Sensitive: a.Sensitive, Validators: a.Validators}
		case resourceschema.ListAttribute:
			out[name] = ephschema.ListAttribute{Description: describe(a.Description), Required: a.Required, Optional: a.Optional,
				Computed: a.Computed, Sensitive: a.Sensitive, Validators: a.Validators, ElementType: a.ElementType}
		case resourceschema.SetAttribute:
			out[name] = ephschema.SetAttribute{Description: describe(a.Description), Required: a.Required, Optional: a.Optional,
				Computed: a.Computed, Sensitive: a.Sensitive, Validators: a.Validators, ElementType: a.ElementType}
		case resourceschema.SingleNestedAttribute:
			out[name] = ephschema.SingleNestedAttribute{Description: describe(a.Description), Required: a.Required,
				Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, Validators: a.Validators,
				Attributes: ephemeralAttributes(a.Attributes, describe)}
		default:
			panic(fmt.Sprintf("ephemeralAttributes: attribute %q of kind %T has no conversion", name, a))
		}
	}
	return out
}
