package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// certificateSchemaVersion is the version of cmpv2_certificate's schema.
// Version 1 keeps nothing that is derivable from certificate_pem (the
// functions certificate_info and certificate_chain give it); version 0
// also stored it.
const certificateSchemaVersion = 1

// removedInVersion1 are the version 0 attributes that version 1 no longer
// stores, all derivable from certificate_pem and ca_chain_pem.
var removedInVersion1 = []string{"issuer", "public_key_pem", "fingerprint_sha256", "certificate_chain_pem"}

var _ resource.ResourceWithUpgradeState = (*certificateResource)(nil)

// UpgradeState upgrades a version 0 state by dropping what version 1 no
// longer stores; every other attribute keeps its value, so the next plan
// of an unchanged configuration is empty. It works on the raw JSON, so no
// copy of the version 0 schema is kept.
func (r *certificateResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{
		0: {StateUpgrader: func(_ context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
			upgraded, err := upgradeCertificateState0(req.RawState)
			if err != nil {
				resp.Diagnostics.AddError("cmpv2_certificate: state of schema version 0 unreadable", err.Error())
				return
			}
			resp.DynamicValue = &tfprotov6.DynamicValue{JSON: upgraded}
		}},
	}
}

// upgradeCertificateState0 is the version 1 JSON of a version 0 state.
func upgradeCertificateState0(raw *tfprotov6.RawState) ([]byte, error) {
	if raw == nil || raw.JSON == nil {
		return nil, fmt.Errorf("no JSON state to upgrade")
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(raw.JSON, &attrs); err != nil {
		return nil, fmt.Errorf("state JSON: %w", err)
	}
	for _, name := range removedInVersion1 {
		delete(attrs, name)
	}
	out, err := json.Marshal(attrs)
	if err != nil {
		return nil, fmt.Errorf("upgraded state JSON: %w", err)
	}
	return out, nil
}
