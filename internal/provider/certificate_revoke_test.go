package provider

import (
	"context"
	"crypto"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestRevokeSupersededFailures: the certificate that leaves
// previous_certificate_pem is revoked best effort; what cannot be revoked
// is a warning that names its serial and the remedy, never an error (the
// new certificate is issued and in the state), and an expired or absent
// one needs nothing.
func TestRevokeSupersededFailures(t *testing.T) {
	prevPEM, prevKeyPEM := testCertificate(t, "previous")
	_, otherKeyPEM := testCertificate(t, "other")
	parse := func(s string) crypto.Signer {
		k, err := parsePrivateKeyPEM(s)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	prevKey, otherKey := parse(prevKeyPEM), parse(otherKeyPEM)
	closed := httptest.NewServer(nil)
	closed.Close() // nothing listens: a CA that cannot be reached

	cases := []struct {
		name        string
		previous    string
		now         time.Time
		keys        []crypto.Signer
		wantWarning []string // nil: no diagnostic at all
	}{
		{name: "no previous certificate", keys: []crypto.Signer{prevKey}},
		{name: "expired previous certificate", previous: prevPEM, now: time.Now().Add(2 * time.Hour),
			keys: []crypto.Signer{prevKey}},
		{name: "its key is not held", previous: prevPEM, keys: []crypto.Signer{otherKey, nil},
			wantWarning: []string{"serial 1", "private key of certificate serial 1 is no longer held", "Ask the CA's operator"}},
		{name: "CA unreachable", previous: prevPEM, keys: []crypto.Signer{otherKey, prevKey},
			wantWarning: []string{"serial 1", "could not be revoked", "revoke serial 1 (reason superseded)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := tc.now
			if now.IsZero() {
				now = time.Now()
			}
			state := certificateModel{PreviousCertificatePEM: types.StringNull()}
			if tc.previous != "" {
				state.PreviousCertificatePEM = types.StringValue(tc.previous)
			}
			conn := &Connection{URL: closed.URL, MessageTimeout: 2 * time.Second}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			diags := revokeSuperseded(ctx, conn, nil, state, now, tc.keys...)
			if diags.HasError() {
				t.Fatalf("error diagnostics: %v", diags)
			}
			text := diagText(diags.Warnings())
			if tc.wantWarning == nil {
				if len(diags) != 0 {
					t.Errorf("diagnostics %v, want none", diags)
				}
				return
			}
			for _, want := range tc.wantWarning {
				if !strings.Contains(text, want) {
					t.Errorf("warning %q does not say %q", text, want)
				}
			}
		})
	}
}
