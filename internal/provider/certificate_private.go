package provider

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// The key of previous_certificate_pem, when a KUR replaced it, signs that
// certificate's RR (RFC 9483 section 4.2), so destroy can revoke it too.
// previous_private_key_pem holds it when the provider generated it; a key
// the configuration supplied is kept in the resource's private state
// instead (previousKeyOutput), where it never shows in plans.
const privatePreviousKey = "previous_key"

// privateState is the part of the framework's private state API we use:
// resource requests' Private fields.
type privateState interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

type previousKeyRecord struct {
	PEM string `json:"pem"`
}

// setPreviousKey records keyPEM as the previous certificate's key; ""
// removes the record (a CR that kept the key needs none).
func setPreviousKey(ctx context.Context, p privateSetter, keyPEM string) diag.Diagnostics {
	if keyPEM == "" {
		return p.SetKey(ctx, privatePreviousKey, nil)
	}
	b, err := json.Marshal(previousKeyRecord{PEM: keyPEM})
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("cmpv2_certificate: cannot record the previous key", err.Error())
		return diags
	}
	return p.SetKey(ctx, privatePreviousKey, b)
}

// previousKey returns the key of the previous certificate of state:
// previous_private_key_pem, else the private record; nil when neither
// holds one.
func previousKey(ctx context.Context, state certificateModel, p privateState) (crypto.Signer, error) {
	if s := state.PreviousPrivateKeyPEM.ValueString(); s != "" {
		return parsePrivateKeyPEM(s)
	}
	if p == nil {
		return nil, nil
	}
	b, diags := p.GetKey(ctx, privatePreviousKey)
	if diags.HasError() || len(b) == 0 {
		return nil, nil
	}
	var rec previousKeyRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("previous key record: %w", err)
	}
	return parsePrivateKeyPEM(rec.PEM)
}

// privateImported marks a certificate imported and not yet adopted: until
// the first apply after the import, the configuration's validity and
// rotation triggers are taken as the certificate's (priorForImport). The
// first update clears it, so later changes classify like any others.
const privateImported = "imported"

// setImported sets or clears the import mark.
func setImported(ctx context.Context, p privateSetter, pending bool) diag.Diagnostics {
	if !pending {
		return p.SetKey(ctx, privateImported, nil)
	}
	return p.SetKey(ctx, privateImported, []byte("true"))
}

// importPending reports the import mark.
func importPending(ctx context.Context, p privateState) bool {
	b, diags := p.GetKey(ctx, privateImported)
	return !diags.HasError() && string(b) == "true"
}
