package provider

import (
	"context"
	"crypto/x509/pkix"
	"encoding/hex"
	"net/http"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// newCMPClient builds the CMP client for one operation against conn, with
// creds protecting the requests the operation does not sign itself (ir,
// genm; nil for cr, kur and rr, which are signed with the certificate they
// are about). The client verifies signed responses and the chains of issued
// certificates against conn's trust anchors (cmpclient rejects an issued
// certificate that does not match the request or does not chain to them).
func newCMPClient(ctx context.Context, conn *Connection, creds cmpclient.Credentials) *cmpclient.Client {
	c := &cmpclient.Client{
		URL:               conn.URL,
		Credentials:       creds,
		TrustAnchors:      conn.TrustedCAs,
		ServerCertificate: conn.ServerCertificate,
		Recipient:         nameOf(conn.Recipient),
		ExpectedSender:    expectedSender(conn),
		ImplicitConfirm:   conn.ImplicitConfirm,
		MessageTimeout:    conn.MessageTimeout,
		Log:               logMessage(ctx),
	}
	if conn.BasicAuth != nil {
		c.Username, c.Password = conn.BasicAuth.Username, conn.BasicAuth.Password
	}
	if conn.TLS != nil {
		// Without a tls object cmpclient's shared client verifies the
		// server against the system roots.
		c.HTTPClient = &http.Client{Transport: cmpclient.NewTransport(conn.TLS)}
	}
	return c
}

// nameOf turns a parsed recipient into a pkix.Name that marshals back to
// the same RDNs in the same order: every attribute goes into ExtraNames,
// which pkix.Name.ToRDNSequence appends in order, one RDN each.
func nameOf(rdns pkix.RDNSequence) pkix.Name {
	var n pkix.Name
	for _, rdn := range rdns {
		n.ExtraNames = append(n.ExtraNames, rdn...)
	}
	return n
}

// expectedSender is the only sender accepted in responses: the recipient
// when one is configured, as OpenSSL's -expect_sender defaults to. Without
// it, any certificate that chains to the trust anchors and may sign
// (another end entity's, say) could answer for the CA; a pinned
// server_certificate_pem closes that gap by itself. The name is filled the
// way cmpclient reads a header sender, so both compare alike.
func expectedSender(conn *Connection) pkix.Name {
	var n pkix.Name
	if len(conn.Recipient) > 0 {
		n.FillFromRDNSequence(&conn.Recipient)
	}
	return n
}

// logMessage connects cmpclient's per-message hook to tflog: the message
// type, transaction and status only: no secret, key or PBM value ever
// reaches a log.
func logMessage(ctx context.Context) func(cmpclient.MessageLog) {
	return func(m cmpclient.MessageLog) {
		fields := map[string]any{
			"direction":      m.Direction,
			"operation":      m.Operation,
			"type":           m.Type,
			"transaction_id": hex.EncodeToString(m.TransactionID),
			"size":           m.Size,
		}
		if m.Status != "" {
			fields["status"] = m.Status
		}
		tflog.Debug(ctx, "cmp message", fields)
	}
}
