package provider

import (
	"context"
	"crypto"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// keyCustody is where the private key of a cmpv2_certificate lives. It
// decides which CMP messages the provider can send about the certificate:
// a key the provider holds signs the POP of an IR, CR or KUR and the
// protection of a CR, KUR or RR about its certificate (RFC 9483 sections
// 4.1 and 4.2); a key held elsewhere signed a PKCS#10 request once, and
// every later message must be protected by a credential the provider
// holds instead. Create, update, renewal and destroy ask custodyOf rather
// than reading the key attributes themselves.
type keyCustody int

const (
	// custodyGenerated: the provider generates the key and keeps it in
	// private_key_pem (sensitive), a new one for every KUR.
	custodyGenerated keyCustody = iota
	// custodyUserKey: the configuration's private_key_pem, kept in state.
	custodyUserKey
	// custodyCSR: the key stays where certificate_request_pem was made;
	// the provider sees only the CSR, enrolls by p10cr (RFC 9483 section
	// 4.1.4) and private_key_pem stays null.
	custodyCSR
)

// custodyOf reads where the key of m lives: m is a configuration, plan or
// state. certificate_request_pem decides first (unknown counts as set: a
// CSR made in the same apply); then private_key_pem of a configuration
// (null: generated). In a plan or state a generated key and a user key
// both sit in private_key_pem and read as custodyUserKey, which is all a
// request about the current certificate needs to know.
func custodyOf(m certificateModel) keyCustody {
	switch {
	case !m.CertificateRequestPEM.IsNull():
		return custodyCSR
	case m.PrivateKeyPEM.IsNull():
		return custodyGenerated
	default:
		return custodyUserKey
	}
}

// holdsKey reports whether the provider holds the certificate's private
// key, so that the certificate can sign requests about itself.
func (c keyCustody) holdsKey() bool { return c != custodyCSR }

// heldKey is the private key of the certificate of state, for the requests
// it signs (CR, KUR, RR): nil when the provider never held it (a CSR).
func heldKey(state certificateModel) (crypto.Signer, error) {
	if !custodyOf(state).holdsKey() {
		return nil, nil
	}
	return parsePrivateKeyPEM(state.PrivateKeyPEM.ValueString())
}

// stateKeyPEM is private_key_pem after an enrollment whose key, if the
// provider holds it, is keyPEM: null when the key is held elsewhere.
func (c keyCustody) stateKeyPEM(keyPEM string) types.String {
	if !c.holdsKey() {
		return types.StringNull()
	}
	return types.StringValue(keyPEM)
}

// createRequest is what Create sends for the key custody of config: a
// p10cr of the CSR, or an IR for the key the provider holds (generated, or
// the configuration's). keyPEM is private_key_pem for the state; op names
// the request in diagnostics.
func createRequest(ctx context.Context, config, plan certificateModel, now time.Time) (
	send func(context.Context, *cmpclient.Client) (*cmpclient.Enrollment, error), keyPEM types.String, op string,
	diags diag.Diagnostics) {
	if custodyOf(config) == custodyCSR {
		csr, err := parseCSRPEM(config.CertificateRequestPEM.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("certificate_request_pem"), "Invalid certificate_request_pem", err.Error())
			return nil, keyPEM, "", diags
		}
		send = func(ctx context.Context, c *cmpclient.Client) (*cmpclient.Enrollment, error) {
			return c.EnrollCSR(ctx, csr.Raw)
		}
		return send, custodyCSR.stateKeyPEM(""), p10crName, diags
	}
	key, pemText, err := keyForRequest(config, plan)
	if err != nil {
		diags.AddAttributeError(path.Root("private_key_pem"), "No key to enroll", err.Error())
		return nil, keyPEM, "", diags
	}
	creq, d := certRequest(ctx, plan, key, now)
	diags.Append(d...)
	if diags.HasError() {
		return nil, keyPEM, "", diags
	}
	send = func(ctx context.Context, c *cmpclient.Client) (*cmpclient.Enrollment, error) {
		return c.Enroll(ctx, creq)
	}
	return send, types.StringValue(pemText), operationName(opReplace), diags
}

// unconfirmedNote ends the error of a create whose certificate was issued
// but not confirmed: what the state keeps and what the next apply does.
func unconfirmedNote(config certificateModel) string {
	if !custodyOf(config).holdsKey() {
		return " is saved in the state and the resource is tainted: the next apply replaces it; its destroy " +
			"revokes it only with update_protection = \"mac\", else a warning names it."
	}
	return " and its key are saved in the state and the resource is tainted: the next apply revokes it and " +
		"enrolls a new one."
}
