package provider

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
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
			name:     "attribute known only after apply",
			obj:      conn(map[string]attr.Value{"url": types.StringUnknown()}),
			defaults: defaults, wantPath: p.AtName("url"), wantError: "known only after apply",
		},
		{
			name: "empty attributes keep the defaults",
			obj: conn(map[string]attr.Value{"url": types.StringValue(""), "message_timeout": types.StringValue(""),
				"tls": types.ObjectNull(tlsAttrTypes)}),
			defaults: defaults,
			check: func(t *testing.T, c *Connection) {
				if c.URL != defaults.URL || c.MessageTimeout != defaults.MessageTimeout || c.TLS != nil {
					t.Errorf("got URL %q timeout %s TLS %v, want the defaults", c.URL, c.MessageTimeout, c.TLS != nil)
				}
			},
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

// TestBasicAuthRule is the one basic-auth rule, at both levels. In the
// provider block each part falls back to its environment variable
// (CMPV2_USERNAME, CMPV2_PASSWORD), so the password can stay out of the
// configuration; a server object's basic_auth replaces the provider's as a
// whole. A user name without a password, or the reverse, is an error at the
// missing attribute, never completed from another level, but for one case:
// a server object's user name without a password takes the provider's
// password for the same user name (an endpoint whose password was
// write-only carries none).
func TestBasicAuthRule(t *testing.T) {
	ctx := context.Background()
	obj := func(user, pass string) types.Object {
		str := func(s string) attr.Value {
			if s == "" {
				return types.StringNull()
			}
			return types.StringValue(s)
		}
		return types.ObjectValueMust(basicAuthAttrTypes, map[string]attr.Value{"username": str(user), "password": str(pass)})
	}
	server := func(ba types.Object) types.Object {
		return connectionObjectWith(t, map[string]attr.Value{"basic_auth": ba})
	}
	noServer := types.ObjectNull(basicAuthAttrTypes)
	cases := []struct {
		name       string
		provider   types.Object      // the provider block's basic_auth
		env        map[string]string // the environment
		server     types.Object      // the server object's basic_auth
		want       *BasicAuth        // the effective credential; nil: none
		wantPath   path.Path         // an error is expected here
		wantDetail string
	}{
		{name: "none anywhere", provider: noServer, server: noServer},
		{name: "provider block", provider: obj("alice", "pa55"), server: noServer,
			want: &BasicAuth{Username: "alice", Password: "pa55"}},
		{name: "environment only", provider: noServer, server: noServer,
			env:  map[string]string{envUsername: "env-user", envPassword: "env-pass"},
			want: &BasicAuth{Username: "env-user", Password: "env-pass"}},
		{name: "block user name, password from the environment", provider: obj("alice", ""), server: noServer,
			env:  map[string]string{envPassword: "env-pass"},
			want: &BasicAuth{Username: "alice", Password: "env-pass"}},
		{name: "block wins over the environment", provider: obj("alice", "pa55"), server: noServer,
			env:  map[string]string{envUsername: "env-user", envPassword: "env-pass"},
			want: &BasicAuth{Username: "alice", Password: "pa55"}},
		{name: "provider user name without password", provider: obj("alice", ""), server: noServer,
			wantPath: path.Root("basic_auth").AtName("password"), wantDetail: "basic_auth.password or " + envPassword},
		{name: "password from the environment without user name", provider: noServer, server: noServer,
			env:      map[string]string{envPassword: "env-pass"},
			wantPath: path.Root("basic_auth").AtName("username"), wantDetail: "basic_auth.username or " + envUsername},
		{name: "server object inherits the provider's", provider: obj("alice", "pa55"), server: noServer,
			want: &BasicAuth{Username: "alice", Password: "pa55"}},
		{name: "server object replaces the provider's", provider: obj("alice", "pa55"), server: obj("bob", "s3cret"),
			want: &BasicAuth{Username: "bob", Password: "s3cret"}},
		{name: "server object without a provider's", provider: noServer, server: obj("bob", "s3cret"),
			want: &BasicAuth{Username: "bob", Password: "s3cret"}},
		{name: "server user name is not completed with the provider's password", provider: obj("alice", "pa55"),
			server:   obj("bob", ""),
			wantPath: path.Root("server").AtName("basic_auth").AtName("password"), wantDetail: "set server.basic_auth.password."},
		{name: "server user name takes the provider's password for the same user", provider: obj("alice", "pa55"),
			server: obj("alice", ""), want: &BasicAuth{Username: "alice", Password: "pa55"}},
		{name: "server user name takes the environment's password for the same user", provider: noServer,
			server: obj("alice", ""), env: map[string]string{envUsername: "alice", envPassword: "env-pass"},
			want: &BasicAuth{Username: "alice", Password: "env-pass"}},
		{name: "server user name without any provider password", provider: noServer, server: obj("alice", ""),
			wantPath:   path.Root("server").AtName("basic_auth").AtName("password"),
			wantDetail: "Or give the provider basic_auth (or " + envUsername + " and " + envPassword + `) for user "alice"`},
		{name: "server password is not completed from the environment", provider: noServer, server: obj("", "s3cret"),
			env:      map[string]string{envUsername: "env-user", envPassword: "env-pass"},
			wantPath: path.Root("server").AtName("basic_auth").AtName("username"), wantDetail: "set server.basic_auth.username."},
		{name: "unknown server basic_auth", provider: noServer, server: types.ObjectUnknown(basicAuthAttrTypes),
			wantPath: path.Root("server").AtName("basic_auth"), wantDetail: "known only after apply"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := nullProviderModel()
			m.URL = types.StringValue("http://127.0.0.1:8829/.well-known/cmp")
			m.BasicAuth = tc.provider
			d, diags := resolveDefaults(ctx, m, func(k string) string { return tc.env[k] })
			var c *Connection
			if !diags.HasError() {
				c, diags = resolveConnection(ctx, path.Root("server"), server(tc.server), d)
			}
			if tc.wantDetail != "" {
				for _, e := range diags.Errors() {
					withPath, ok := e.(interface{ Path() path.Path })
					if ok && withPath.Path().Equal(tc.wantPath) && strings.Contains(e.Detail(), tc.wantDetail) {
						return
					}
				}
				t.Fatalf("errors %v: none at %s containing %q", diags, tc.wantPath, tc.wantDetail)
			}
			if diags.HasError() {
				t.Fatalf("unexpected error: %v", diags)
			}
			switch {
			case tc.want == nil && c.BasicAuth != nil:
				t.Errorf("basic auth for user %q, want none", c.BasicAuth.Username)
			case tc.want != nil && (c.BasicAuth == nil || *c.BasicAuth != *tc.want):
				t.Errorf("basic auth %v, want user %q with its password", c.BasicAuth != nil, tc.want.Username)
			}
		})
	}
}

// TestConnectionTypesFollowTheSchema: the object types of server,
// endpoint, tls and basic_auth values are derived from the input schema;
// the output schema and the provider block's objects must have them too.
func TestConnectionTypesFollowTheSchema(t *testing.T) {
	for name, a := range connectionAttributes(true) {
		if !a.GetType().Equal(connectionAttrTypes[name]) {
			t.Errorf("%s: the output schema's type %s differs from the object type %s", name, a.GetType(), connectionAttrTypes[name])
		}
	}
	if len(connectionAttrTypes) != len(connectionAttributes(false)) {
		t.Errorf("%d object attributes, %d in the schema", len(connectionAttrTypes), len(connectionAttributes(false)))
	}
	provTLS := providerTLSAttribute().GetType()
	if !provTLS.Equal(types.ObjectType{AttrTypes: tlsAttrTypes}) {
		t.Errorf("the provider's tls type %s differs from a server's %v", provTLS, tlsAttrTypes)
	}
	provBasic := providerBasicAuthAttribute().GetType()
	if !provBasic.Equal(types.ObjectType{AttrTypes: basicAuthAttrTypes}) {
		t.Errorf("the provider's basic_auth type %s differs from a server's %v", provBasic, basicAuthAttrTypes)
	}
}

// TestWillHaveURL: the plan-time URL rule gives what resolveConnection
// gives at apply, with values known only after apply counted as given.
func TestWillHaveURL(t *testing.T) {
	ctx := context.Background()
	server := func(url types.String) types.Object {
		m := connectionModel{URL: url, TrustedCAPEM: types.StringNull(), ServerCertificatePEM: types.StringNull(),
			Recipient: types.StringNull(), TLS: types.ObjectNull(tlsAttrTypes), BasicAuth: types.ObjectNull(basicAuthAttrTypes),
			ImplicitConfirm: types.BoolNull(), MessageTimeout: types.StringNull()}
		obj, diags := m.object(ctx)
		if diags.HasError() {
			t.Fatal(diags)
		}
		return obj
	}
	withURL := &Defaults{URL: "http://127.0.0.1:1/"}
	tests := []struct {
		name     string
		obj      types.Object
		defaults *Defaults
		want     bool
	}{
		{name: "nothing", obj: types.ObjectNull(connectionAttrTypes), want: false},
		{name: "provider url", obj: types.ObjectNull(connectionAttrTypes), defaults: withURL, want: true},
		{name: "server known after apply", obj: types.ObjectUnknown(connectionAttrTypes), want: true},
		{name: "server url", obj: server(types.StringValue("http://ca.example/")), want: true},
		{name: "server url known after apply", obj: server(types.StringUnknown()), want: true},
		{name: "empty server url", obj: server(types.StringValue("")), want: false},
		{name: "empty server url over the provider's", obj: server(types.StringValue("")), defaults: withURL, want: true},
		{name: "null server url", obj: server(types.StringNull()), want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := willHaveURL(ctx, tc.obj, tc.defaults)
			if diags.HasError() {
				t.Fatal(diags)
			}
			if got != tc.want {
				t.Errorf("willHaveURL = %v, want %v", got, tc.want)
			}
			if tc.obj.IsUnknown() || (!tc.obj.IsNull() && tc.obj.Attributes()["url"].IsUnknown()) {
				return
			}
			// At apply, resolveConnection agrees.
			_, rd := resolveConnection(ctx, path.Root("server"), tc.obj, tc.defaults)
			if ok := !rd.HasError(); ok != tc.want {
				t.Errorf("resolveConnection succeeded = %v (%v), want %v", ok, rd, tc.want)
			}
		})
	}
}

// TestTLSClientKeyRule: a server object's client certificate without its
// key takes the provider's key for the same certificate (a cmpv2_server
// endpoint whose key was write-only carries none); another certificate's
// key is never used, and a certificate left without a key is an error at
// the key's attribute.
func TestTLSClientKeyRule(t *testing.T) {
	ctx := context.Background()
	certPEM, keyPEM := testCertificate(t, "tls client")
	otherPEM, _ := testCertificate(t, "other tls client")
	server := func(tlsObj types.Object) types.Object {
		return connectionObjectWith(t, map[string]attr.Value{
			"url": types.StringValue("https://127.0.0.1:8829/.well-known/cmp"), "tls": tlsObj})
	}
	keyPath := path.Root("server").AtName("tls").AtName("client_private_key_pem")
	cases := []struct {
		name     string
		provider types.Object
		server   types.Object
		wantKey  bool // the client certificate is presented with a key
		wantErr  bool // an error at keyPath
	}{
		{name: "same certificate takes the provider's key", provider: tlsObject(t, "", certPEM, keyPEM),
			server: tlsObject(t, "", certPEM, ""), wantKey: true},
		{name: "own key", provider: types.ObjectNull(tlsAttrTypes), server: tlsObject(t, "", certPEM, keyPEM), wantKey: true},
		{name: "another certificate does not take the provider's key", provider: tlsObject(t, "", certPEM, keyPEM),
			server: tlsObject(t, "", otherPEM, ""), wantErr: true},
		{name: "no provider key", provider: types.ObjectNull(tlsAttrTypes), server: tlsObject(t, "", certPEM, ""),
			wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := nullProviderModel()
			m.TLS = tc.provider
			d, diags := resolveDefaults(ctx, m, func(string) string { return "" })
			if diags.HasError() {
				t.Fatal(diags)
			}
			c, diags := resolveConnection(ctx, path.Root("server"), server(tc.server), d)
			if tc.wantErr {
				for _, e := range diags.Errors() {
					if at, ok := e.(interface{ Path() path.Path }); ok && at.Path().Equal(keyPath) {
						return
					}
				}
				t.Fatalf("errors %v: none at %s", diags, keyPath)
			}
			if diags.HasError() {
				t.Fatal(diags)
			}
			if got := c.TLS != nil && len(c.TLS.Certificates) == 1 && c.TLS.Certificates[0].PrivateKey != nil; got != tc.wantKey {
				t.Errorf("client certificate with key: %v, want %v", got, tc.wantKey)
			}
		})
	}
}

// connectionObjectWith is a connection object with the values set and
// every other attribute null.
func connectionObjectWith(t *testing.T, set map[string]attr.Value) types.Object {
	t.Helper()
	ctx := context.Background()
	vals := map[string]attr.Value{}
	for name, typ := range connectionAttrTypes {
		n, err := typ.ValueFromTerraform(ctx, tftypes.NewValue(typ.TerraformType(ctx), nil))
		if err != nil {
			t.Fatal(err)
		}
		vals[name] = n
	}
	maps.Copy(vals, set)
	return types.ObjectValueMust(connectionAttrTypes, vals)
}
