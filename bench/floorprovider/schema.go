package main

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// certificateSchema is cmpv2_certificate's attribute list
// (internal/provider/resource_certificate.go): the same names, types,
// optionality, defaults and sensitivity, and the UseStateForUnknown
// modifiers that shape its plans, but no validators and no plan
// modification, because those are the real resource's work.
// TestFloorSchemaMatchesCertificate fails when the two drift apart.
func certificateSchema(ctx context.Context) schema.Schema {
	optString := func(sensitive bool) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Sensitive: sensitive}
	}
	computedString := func() schema.StringAttribute { return schema.StringAttribute{Computed: true} }
	optList := func() schema.ListAttribute {
		return schema.ListAttribute{Optional: true, ElementType: types.StringType}
	}
	optSet := func() schema.SetAttribute {
		return schema.SetAttribute{Optional: true, ElementType: types.StringType}
	}
	keepState := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	return schema.Schema{
		Version:     1,
		Description: "A no-op certificate with cmpv2_certificate's schema, for benchmarks.",
		Attributes: map[string]schema.Attribute{
			"server": schema.SingleNestedAttribute{
				Optional:   true,
				Attributes: connectionAttributes(),
			},
			"enrollment": schema.SingleNestedAttribute{
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"reference":       optString(false),
					"secret":          optString(true),
					"secret_wo":       schema.StringAttribute{Optional: true, Sensitive: true, WriteOnly: true},
					"certificate_pem": optString(false),
					"private_key_pem": optString(true),
					"mac_algorithm":   optString(false),
					"secret_encoding": optString(false),
				},
			},
			"subject": schema.SingleNestedAttribute{
				Optional: true, Computed: true,
				Attributes: map[string]schema.Attribute{
					"common_name":         optString(false),
					"organization":        optString(false),
					"organizational_unit": optString(false),
					"country":             optString(false),
					"province":            optString(false),
					"locality":            optString(false),
					"street_address":      optString(false),
					"postal_code":         optString(false),
					"serial_number":       optString(false),
				},
			},
			"dns_names":             optList(),
			"ip_addresses":          optList(),
			"uris":                  optList(),
			"email_addresses":       optList(),
			"key_usages":            optSet(),
			"extended_key_usages":   optSet(),
			"validity_period_hours": schema.Int64Attribute{Optional: true},
			"key_algorithm": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("ECDSA"),
			},
			"rsa_bits": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(2048),
			},
			"ecdsa_curve": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("P256"),
			},
			"private_key_pem": schema.StringAttribute{
				Optional: true, Computed: true, Sensitive: true, PlanModifiers: keepState,
			},
			"certificate_request_pem": schema.StringAttribute{
				Optional: true,
			},
			"private_key_wo":          schema.StringAttribute{Optional: true, WriteOnly: true},
			"private_key_wo_version":  schema.Int64Attribute{Optional: true},
			"previous_private_key_wo": schema.StringAttribute{Optional: true, WriteOnly: true},
			"certificate_profile":     optString(false),
			"renew_before_expiry":     optString(false),
			"renew_after_issue":       optString(false),
			"rotation_triggers":       schema.MapAttribute{Optional: true, ElementType: types.StringType},
			"revoke_on_destroy": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"revoke_superseded": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"revocation_reason": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("unspecified"),
			},
			"update_protection": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("signature"),
			},
			"use_request_template": schema.BoolAttribute{Optional: true},

			"id":                                  schema.StringAttribute{Computed: true, PlanModifiers: keepState},
			"certificate_pem":                     computedString(),
			"ca_chain_pem":                        computedString(),
			"serial_number":                       computedString(),
			"not_before":                          computedString(),
			"not_after":                           computedString(),
			"previous_certificate_pem":            computedString(),
			"previous_private_key_pem":            schema.StringAttribute{Computed: true, Sensitive: true},
			"certificate_p12":                     schema.StringAttribute{Computed: true, Sensitive: true},
			"certificate_p12_password":            optString(true),
			"certificate_p12_password_wo":         schema.StringAttribute{Optional: true, WriteOnly: true},
			"certificate_p12_password_wo_version": schema.Int64Attribute{Optional: true},
			"certificate_p12_encoding":            optString(false),
			"last_operation":                      computedString(),
			"ready_for_renewal":                   schema.BoolAttribute{Computed: true},
			"renewal_time":                        computedString(),
			"trust_anchor_sha256":                 computedString(),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

// connectionAttributes is the shape of cmpv2_server's connection object.
func connectionAttributes() map[string]schema.Attribute {
	str := func(sensitive bool) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Sensitive: sensitive}
	}
	return map[string]schema.Attribute{
		"url":                    str(false),
		"trusted_ca_pem":         str(false),
		"server_certificate_pem": str(false),
		"recipient":              str(false),
		"tls": schema.SingleNestedAttribute{
			Optional: true,
			Attributes: map[string]schema.Attribute{
				"ca_pem":                 str(false),
				"client_certificate_pem": str(false),
				"client_private_key_pem": str(true),
				"server_name":            str(false),
				"insecure_skip_verify":   schema.BoolAttribute{Optional: true},
			},
		},
		"basic_auth": schema.SingleNestedAttribute{
			Optional: true,
			Attributes: map[string]schema.Attribute{
				"username": str(false),
				"password": str(true),
			},
		},
		"implicit_confirm": schema.BoolAttribute{Optional: true},
		"message_timeout":  str(false),
	}
}
