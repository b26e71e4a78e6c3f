package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestResolveConnection(t *testing.T) {
	ctx := context.Background()
	caPEM, _ := testCertificate(t, "Root")
	signerPEM, _ := testCertificate(t, "CMP signer")
	defaults := &Defaults{
		URL: "http://127.0.0.1:8829/.well-known/cmp", MessageTimeout: 2 * time.Minute,
		BasicAuth: &BasicAuth{Username: "u", Password: "p"}, ImplicitConfirm: true,
	}
	// conn builds a server object; unset attributes are null.
	conn := func(attrs map[string]attr.Value) types.Object {
		vals := map[string]attr.Value{
			"url": types.StringNull(), "trusted_ca_pem": types.StringNull(), "server_certificate_pem": types.StringNull(),
			"recipient": types.StringNull(), "tls": types.ObjectNull(tlsAttrTypes),
			"basic_auth": types.ObjectNull(basicAuthAttrTypes), "implicit_confirm": types.BoolNull(),
			"message_timeout": types.StringNull(),
		}
		for k, v := range attrs {
			vals[k] = v
		}
		return types.ObjectValueMust(connectionAttrTypes, vals)
	}
	p := path.Root("server")

	cases := []struct {
		name      string
		obj       types.Object
		defaults  *Defaults
		wantPath  path.Path
		wantError string
		check     func(t *testing.T, c *Connection)
	}{
		{
			name: "no server object: the provider defaults", obj: types.ObjectNull(connectionAttrTypes), defaults: defaults,
			check: func(t *testing.T, c *Connection) {
				if c.URL != defaults.URL || c.MessageTimeout != 2*time.Minute || c.BasicAuth == nil || !c.ImplicitConfirm {
					t.Errorf("got %+v, want the defaults", c)
				}
			},
		},
		{
			name: "set attributes override the defaults",
			obj: conn(map[string]attr.Value{
				"url": types.StringValue("https://ca.example/cmp"), "implicit_confirm": types.BoolValue(false),
				"message_timeout": types.StringValue("5s"), "trusted_ca_pem": types.StringValue(caPEM),
				"server_certificate_pem": types.StringValue(signerPEM),
				"recipient":              types.StringValue("CN=Issuing CA,O=Example"),
			}),
			defaults: defaults,
			check: func(t *testing.T, c *Connection) {
				if c.URL != "https://ca.example/cmp" || c.ImplicitConfirm || c.MessageTimeout != 5*time.Second ||
					len(c.TrustedCAs) != 1 || c.ServerCertificate == nil || c.ServerCertificate.Subject.CommonName != "CMP signer" {
					t.Errorf("overrides not applied: %+v", c)
				}
				if got := c.Recipient.String(); got != "CN=Issuing CA,O=Example" {
					t.Errorf("recipient %q", got)
				}
				if c.BasicAuth == nil {
					t.Error("unset basic_auth must keep the provider's")
				}
			},
		},
		{
			name: "no URL anywhere", obj: types.ObjectNull(connectionAttrTypes), defaults: nil,
			wantPath: p.AtName("url"), wantError: "CMPV2_URL",
		},
		{
			name:     "two pinned certificates",
			obj:      conn(map[string]attr.Value{"server_certificate_pem": types.StringValue(signerPEM + caPEM)}),
			defaults: defaults, wantPath: p.AtName("server_certificate_pem"), wantError: "it holds 2",
		},
		{
			name:     "recipient that does not parse",
			obj:      conn(map[string]attr.Value{"recipient": types.StringValue("Issuing CA")}),
			defaults: defaults, wantPath: p.AtName("recipient"), wantError: "want TYPE=value",
		},
		{
			name:     "tls object checked at its path",
			obj:      conn(map[string]attr.Value{"tls": tlsObject(t, "not PEM", "", "")}),
			defaults: defaults, wantPath: p.AtName("tls").AtName("ca_pem"), wantError: "no PEM",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, diags := resolveConnection(ctx, p, tc.obj, tc.defaults)
			if tc.wantError == "" {
				if diags.HasError() {
					t.Fatalf("unexpected error: %v", diags)
				}
				tc.check(t, c)
				return
			}
			for _, e := range diags.Errors() {
				withPath, ok := e.(interface{ Path() path.Path })
				if ok && withPath.Path().Equal(tc.wantPath) && strings.Contains(e.Detail(), tc.wantError) {
					return
				}
			}
			t.Errorf("errors %v: none at %s containing %q", diags, tc.wantPath, tc.wantError)
		})
	}
}
