package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Read and ModifyPlan run for every certificate of every plan. Getting the
// whole certificateModel goes through the framework's reflection and its
// schema lookups once per attribute, which dominated a plan of 1000
// certificates (docs/guides/performance.md). The common case needs a handful
// of attributes, so it reads them from the raw object value: the protocol
// server (server_nochange.go) asks planStands and readStands, and answers
// the calls that change nothing without the framework; ModifyPlan and Read
// work on the rest.

// stateAttributes is the top level of a certificate's object value, by
// attribute name. The map belongs to v: read it, never write it.
type stateAttributes map[string]tftypes.Value

func stateAttributesOf(v tftypes.Value) (stateAttributes, error) {
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		return nil, fmt.Errorf("certificate object: %w", err)
	}
	return attrs, nil
}

// str returns a string attribute; null is "". An unknown value or another
// type is an error.
func (a stateAttributes) str(name string) (string, error) {
	var s string
	if err := a[name].As(&s); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// time parses an RFC 3339 string attribute.
func (a stateAttributes) time(name string) (time.Time, error) {
	s, err := a.str(name)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// readyForRenewal returns ready_for_renewal as the state holds it and
// whether it is set (not null).
func (a stateAttributes) readyForRenewal() (ready, set bool, err error) {
	v := a["ready_for_renewal"]
	if v.IsNull() {
		return false, false, nil
	}
	if err := v.As(&ready); err != nil {
		return false, false, fmt.Errorf("ready_for_renewal: %w", err)
	}
	return ready, true, nil
}

// planStands and readStands are the certificate's noChangeRules. A
// certificate marked imported is left to ModifyPlan, which adopts the
// configuration's validity and rotation triggers (priorForImport).
func (r *certificateResource) planStands(state tftypes.Value, private map[string][]byte) bool {
	return !importPending(context.Background(), privateMap(private)) && planStandsAsProposed(state, state, r.clock.now())
}

func (r *certificateResource) readStands(state tftypes.Value) bool {
	attrs, err := stateAttributesOf(state)
	if err != nil {
		return false
	}
	_, moves := readyForRenewalMoves(attrs, r.clock.now())
	return !moves
}

// readyForRenewalMoves returns the ready_for_renewal Read stores at now and
// whether it differs from the state's. Without a renewal time (yet)
// nothing moves with the clock.
func readyForRenewalMoves(attrs stateAttributes, now time.Time) (ready, moves bool) {
	renewAt, err := attrs.time("renewal_time")
	if err != nil {
		return false, false
	}
	ready = !now.Before(renewAt)
	was, set, err := attrs.readyForRenewal()
	return ready, err != nil || !set || was != ready
}

// privateMap is private state as the protocol server decoded it, by key.
type privateMap map[string][]byte

func (m privateMap) GetKey(_ context.Context, key string) ([]byte, diag.Diagnostics) {
	return m[key], nil
}

// planStandsAsProposed reports whether a plan for an existing certificate
// needs no change and no diagnostic from ModifyPlan: Terraform proposed
// the prior state itself (no input changed, nothing unknown), the renewal
// window is not open, the certificate has not expired, the configured
// window fits in the granted validity (else ModifyPlan warns), and the
// state already holds the renewal_time and ready_for_renewal = false that
// ModifyPlan would plan. Any doubt (an attribute that does not read)
// answers false, and the full ModifyPlan decides.
func planStandsAsProposed(plan, state tftypes.Value, now time.Time) bool {
	if !plan.Equal(state) {
		return false
	}
	attrs, err := stateAttributesOf(state)
	if err != nil {
		return false
	}
	// The same readers as the whole-model path, on the raw values.
	var v [4]string
	for i, name := range []string{"not_before", "not_after", "renew_before_expiry", "renew_after_issue"} {
		if v[i], err = attrs.str(name); err != nil {
			return false
		}
	}
	notBefore, notAfter, err := parseValidity(v[0], v[1])
	if err != nil {
		return false
	}
	settings := parseRenewalSettings(v[2], v[3])
	renewAt, fellBack := renewalTime(notBefore, notAfter, settings)
	if fellBack || !now.Before(renewAt) || !now.Before(notAfter) {
		return false
	}
	planned, err := attrs.str("renewal_time")
	if err != nil || planned != formatTime(renewAt) {
		return false
	}
	ready, set, err := attrs.readyForRenewal()
	return err == nil && set && !ready
}
