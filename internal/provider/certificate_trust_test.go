package provider

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestTrustMissing: a signed answer is certainly unverifiable only when
// neither the server object nor the provider configures an anchor and the
// certificate adopted none that its ca_chain_pem holds.
func TestTrustMissing(t *testing.T) {
	ctx := context.Background()
	rootPEM, _ := testCertificate(t, "root")
	otherPEM, _ := testCertificate(t, "other")
	root, err := parseCertificatePEM(rootPEM)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(root.Raw)
	fingerprint := hex.EncodeToString(sum[:])
	server := func(m connectionModel) types.Object {
		m.TLS, m.BasicAuth = types.ObjectNull(tlsAttrTypes), types.ObjectNull(basicAuthAttrTypes)
		obj, diags := m.object(ctx)
		if diags.HasError() {
			t.Fatal(diags)
		}
		return obj
	}
	adopted := certificateModel{CAChainPEM: types.StringValue(otherPEM + rootPEM), TrustAnchorSHA256: types.StringValue(fingerprint)}
	notInChain := certificateModel{CAChainPEM: types.StringValue(otherPEM), TrustAnchorSHA256: types.StringValue(fingerprint)}
	tests := []struct {
		name     string
		server   types.Object
		defaults *Defaults
		state    certificateModel
		want     bool
	}{
		{name: "nothing configured, nothing adopted", server: types.ObjectNull(connectionAttrTypes), want: true},
		{name: "empty server object", server: server(connectionModel{}), defaults: &Defaults{}, want: true},
		{name: "provider anchor", server: types.ObjectNull(connectionAttrTypes),
			defaults: &Defaults{TrustedCAs: []*x509.Certificate{root}}},
		{name: "server trusted_ca_pem", server: server(connectionModel{TrustedCAPEM: types.StringValue(rootPEM)})},
		{name: "server server_certificate_pem", server: server(connectionModel{ServerCertificatePEM: types.StringValue(rootPEM)})},
		{name: "server trusted_ca_pem known after apply", server: server(connectionModel{TrustedCAPEM: types.StringUnknown()})},
		{name: "server known after apply", server: types.ObjectUnknown(connectionAttrTypes)},
		{name: "adopted anchor", server: types.ObjectNull(connectionAttrTypes), state: adopted},
		{name: "adopted anchor missing from ca_chain_pem", server: types.ObjectNull(connectionAttrTypes), state: notInChain, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := trustMissing(ctx, tc.server, tc.defaults, tc.state); got != tc.want {
				t.Errorf("trustMissing = %v, want %v", got, tc.want)
			}
		})
	}

	if got, err := adoptedAnchor(adopted); err != nil || got == nil || !got.Equal(root) {
		t.Errorf("adoptedAnchor = %v, %v; want the root from ca_chain_pem", got, err)
	}
	if _, err := adoptedAnchor(notInChain); err == nil || !strings.Contains(err.Error(), "not in ca_chain_pem") {
		t.Errorf("adoptedAnchor of a fingerprint not in ca_chain_pem: %v", err)
	}
	if got, err := adoptedAnchor(certificateModel{CAChainPEM: types.StringValue(rootPEM)}); got != nil || err != nil {
		t.Errorf("adoptedAnchor without trust_anchor_sha256 = %v, %v; want none", got, err)
	}
}

// TestCertificateConnectionAnchors: configured anchors win over the
// adopted one, which is used (and kept for the next certificate) only
// without them; with neither, the error names trusted_ca_pem.
func TestCertificateConnectionAnchors(t *testing.T) {
	ctx := context.Background()
	rootPEM, _ := testCertificate(t, "root")
	otherPEM, _ := testCertificate(t, "configured")
	root, _ := parseCertificatePEM(rootPEM)
	configured, _ := parseCertificatePEM(otherPEM)
	sum := sha256.Sum256(root.Raw)
	state := certificateModel{CAChainPEM: types.StringValue(rootPEM), TrustAnchorSHA256: types.StringValue(hex.EncodeToString(sum[:]))}
	noServer := types.ObjectNull(connectionAttrTypes)
	url := "http://127.0.0.1:1/cmp"

	conn, kept, diags := certificateConnection(ctx, noServer, &Defaults{URL: url, TrustedCAs: []*x509.Certificate{configured}}, state, types.StringNull())
	if diags.HasError() || len(conn.TrustedCAs) != 1 || !conn.TrustedCAs[0].Equal(configured) || !kept.IsNull() {
		t.Errorf("with a configured anchor: %v %v %v; want it alone, nothing kept", conn, kept, diags)
	}
	conn, kept, diags = certificateConnection(ctx, noServer, &Defaults{URL: url}, state, types.StringNull())
	if diags.HasError() || len(conn.TrustedCAs) != 1 || !conn.TrustedCAs[0].Equal(root) || kept != state.TrustAnchorSHA256 {
		t.Errorf("with the adopted anchor only: %v %v %v; want it used and kept", conn, kept, diags)
	}
	_, _, diags = certificateConnection(ctx, noServer, &Defaults{URL: url}, certificateModel{}, types.StringNull())
	if !diags.HasError() || !strings.Contains(diags[0].Detail(), "trusted_ca_pem") || !strings.Contains(diags[0].Detail(), "Nothing was sent") {
		t.Errorf("without anchors: %v; want an error naming trusted_ca_pem", diags)
	}
}

// TestImportAdoptsNoAnchor: an imported certificate, even with its chain up
// to a root, has no adopted trust anchor: nothing authenticated the root.
func TestImportAdoptsNoAnchor(t *testing.T) {
	certPEM, keyPEM := testCertificate(t, "imported")
	m, err := importedModel(context.Background(), certPEM+certPEM+keyPEM, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !m.TrustAnchorSHA256.IsNull() {
		t.Errorf("trust_anchor_sha256 = %s after an import, want null", m.TrustAnchorSHA256)
	}
	if missing := trustMissing(context.Background(), types.ObjectNull(connectionAttrTypes), &Defaults{}, *m); !missing {
		t.Error("an imported certificate without configured anchors counts as trusted")
	}
}
