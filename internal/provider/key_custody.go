package provider

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
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
// holds instead; a write-only key signs what a held key signs, but only in
// the applies whose configuration supplies it (certificate_keywo.go). Create, update, renewal and destroy ask custodyOf rather
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
	// custodyWriteOnly: the key comes from an ephemeral source through
	// the write-only private_key_wo, in every plan and apply that needs
	// it; the state keeps private_key_wo_version (which marks this
	// custody) and the certificate, whose public key identifies the key,
	// and private_key_pem stays null.
	custodyWriteOnly
)

// custodyOf reads where the key of m lives: m is a configuration, plan or
// state. certificate_request_pem decides first (unknown counts as set: a
// CSR made in the same apply); then private_key_wo_version (the write-only
// key, whose value no plan or state holds); then private_key_pem of a
// configuration (null: generated). In a plan or state a generated key and a user key
// both sit in private_key_pem and read as custodyUserKey, which is all a
// request about the current certificate needs to know.
func custodyOf(m certificateModel) keyCustody {
	switch {
	case !m.CertificateRequestPEM.IsNull():
		return custodyCSR
	case !m.PrivateKeyWOVersion.IsNull():
		return custodyWriteOnly
	case m.PrivateKeyPEM.IsNull():
		return custodyGenerated
	default:
		return custodyUserKey
	}
}

// holdsKey reports whether the provider holds the certificate's private
// key in state, so that the certificate can sign requests about itself in
// any apply, a destroy's included.
func (c keyCustody) holdsKey() bool { return c == custodyGenerated || c == custodyUserKey }

// home groups the custodies a request about the current certificate can
// move between: a generated key and a user key both live in state.
func (c keyCustody) home() keyCustody {
	if c == custodyGenerated {
		return custodyUserKey
	}
	return c
}

// keyAttribute names the attribute that supplies the key of a request,
// for diagnostics.
func (c keyCustody) keyAttribute() string {
	if c == custodyWriteOnly {
		return "private_key_wo"
	}
	return "private_key_pem"
}

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
	custody := custodyOf(config)
	key, pemText, err := enrollKey(config, plan)
	if err != nil {
		diags.AddAttributeError(path.Root(custody.keyAttribute()), "No key to enroll", err.Error())
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
	return send, custody.stateKeyPEM(pemText), operationName(opReplace), diags
}

// enrollKey is the key an IR, CR or KUR of config certifies and its PEM
// for the state: the write-only key (no PEM: the state keeps none), else
// keyForRequest's.
func enrollKey(config, plan certificateModel) (crypto.Signer, string, error) {
	if custodyOf(config) == custodyWriteOnly {
		key, err := keyWO(config.PrivateKeyWO, "private_key_wo")
		return key, "", err
	}
	return keyForRequest(config, plan)
}

// updateKeys are the keys of a CR or KUR from the certificate cur of state
// to plan (config supplies the write-only keys): signer signs the request
// (RFC 9483 sections 4.1.2 and 4.1.3; nil when mac, update_protection =
// "mac", protects it), key is the key the new certificate certifies,
// keyPEM what the state keeps of it, and spare any other key at hand that
// may sign the RR of the certificate the update pushes out of the state.
// The error names the attribute at fault; for a write-only key it is
// returned before any message is sent with a key that is not the
// certificate's.
func updateKeys(config, plan, state certificateModel, cur *x509.Certificate, mac bool) (
	signer, key crypto.Signer, keyPEM string, spare []crypto.Signer, attr string, err error) {
	if custodyOf(state) == custodyWriteOnly {
		return keyWOUpdateKeys(config, state, cur, mac)
	}
	if signer, err = parsePrivateKeyPEM(state.PrivateKeyPEM.ValueString()); err != nil {
		return nil, nil, "", nil, "private_key_pem", fmt.Errorf("unreadable private key in state: %w", err)
	}
	if key, keyPEM, err = keyForRequest(config, plan); err != nil {
		return nil, nil, "", nil, "private_key_pem", fmt.Errorf("no key to request: %w", err)
	}
	return signer, key, keyPEM, nil, "", nil
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

// custodyChangeReason names, for the replacement custodyChanged plans
// from custody from to custody to, the attribute whose change moves the
// key and how.
func custodyChangeReason(from, to keyCustody) (attribute, what string) {
	switch {
	case to == custodyCSR:
		return "certificate_request_pem", "certificate_request_pem is set: the key moves out of the provider"
	case to == custodyWriteOnly:
		return "private_key_wo_version", "private_key_wo_version is set: the key becomes write-only (private_key_wo)"
	case from == custodyWriteOnly:
		return "private_key_wo_version", "private_key_wo_version is removed: the key moves into the state"
	}
	return "certificate_request_pem", "certificate_request_pem is removed: the provider takes the key"
}

// keptKeyNote ends "the state keeps the current certificate" where the
// state keeps its key too (holdsKey).
func keptKeyNote(state certificateModel) string {
	if custodyOf(state).holdsKey() {
		return " and its key"
	}
	return ""
}
