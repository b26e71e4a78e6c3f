package provider

// The renewal window and the classification of an update: pure functions
// of times, settings and intents. The plan modifier (certificate_plan.go)
// reads them off the model; Update (certificate_update.go) runs the
// operation they chose.

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// clock is the certificate resource's time: what renewal windows and
// expiry are judged against, and how long an interrupted operation may
// still run (operationContext). The provider sets it when it builds the
// resource; tests pass theirs through the provider factory to move through
// renewal windows without sleeping. The zero clock is the real time with
// the default grace.
type clock struct {
	Now       func() time.Time // nil: time.Now
	StopGrace time.Duration    // 0: defaultStopGrace
}

func (c clock) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// operation is the CMP transaction an apply will run for a planned change.
type operation string

const (
	opNone    operation = ""    // state-only update: no CMP message
	opCR      operation = "cr"  // certification request (RFC 9483 section 4.1.2)
	opKUR     operation = "kur" // key update request (RFC 9483 section 4.1.3)
	opReplace operation = "ir"  // destroy and create: a new initialization request
)

// renewalSettings are renew_before_expiry and renew_after_issue; zero means
// unset.
type renewalSettings struct {
	Before time.Duration
	After  time.Duration
}

// parseValidity reads not_before and not_after as the state holds them
// (RFC 3339). ModifyPlan's fast path and the whole-model path both read
// them here.
func parseValidity(notBefore, notAfter string) (nb, na time.Time, err error) {
	nb, err = time.Parse(time.RFC3339, notBefore)
	if err != nil {
		return nb, na, fmt.Errorf("not_before: %w", err)
	}
	na, err = time.Parse(time.RFC3339, notAfter)
	if err != nil {
		return nb, na, fmt.Errorf("not_after: %w", err)
	}
	return nb, na, nil
}

// parseRenewalSettings reads renew_before_expiry and renew_after_issue
// ("" when null). An invalid duration was reported by the attribute's
// validator and counts as unset here. ModifyPlan's fast path and the
// whole-model path both read them here.
func parseRenewalSettings(before, after string) renewalSettings {
	var s renewalSettings
	if before != "" {
		s.Before, _ = checkDuration(before)
	}
	if after != "" {
		s.After, _ = checkDuration(after)
	}
	return s
}

// formatTime writes a time as the state holds it: RFC 3339 in UTC.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// renewalTime returns when the renewal window of a certificate valid from
// notBefore to notAfter opens. With no setting, it opens when one third of
// the granted validity remains; with both, the earlier time wins.
//
// A window that would open at or before notBefore (the CA granted less
// validity than renew_before_expiry, or renew_after_issue is zero-length)
// would make every plan a KUR; then the default rule applies and fellBack
// tells the caller to warn.
func renewalTime(notBefore, notAfter time.Time, s renewalSettings) (t time.Time, fellBack bool) {
	byDefault := notAfter.Add(-notAfter.Sub(notBefore) / 3)
	if s.Before == 0 && s.After == 0 {
		return byDefault, false
	}
	var candidates []time.Time
	if s.Before > 0 {
		candidates = append(candidates, notAfter.Add(-s.Before))
	}
	if s.After > 0 {
		candidates = append(candidates, notBefore.Add(s.After))
	}
	t = slices.MinFunc(candidates, time.Time.Compare)
	if !t.After(notBefore) {
		return byDefault, true
	}
	return t, false
}

// certificateIntent is what a configuration asks for, in the terms that
// decide which CMP operation an update needs.
type certificateIntent struct {
	Subject           string // pkix.Name in RFC 4514 form
	DNSNames          []string
	IPAddresses       []string
	URIs              []string
	EmailAddresses    []string
	KeyUsages         []string
	ExtendedKeyUsages []string
	ValidityHours     int64 // 0: unset, the CA decides

	// KeyPEM is the user-supplied key; "" when the provider generates the
	// key. For the prior state it is the key the certificate holds.
	KeyPEM           string
	KeySpec          keySpec
	RotationTriggers map[string]string
}

// updateDecision is the outcome of classifyUpdate: the operation, whether
// it carries a new key, and the reasons, for the plan's warning.
type updateDecision struct {
	Op     operation
	NewKey bool
	Why    []string
}

// classifyUpdate decides what an update of a certificate issued with prior
// needs to do to satisfy planned:
//   - expired (now >= notAfter): replace with a new IR, since CMP does not
//     accept an expired certificate as proof of identity;
//   - subject, SANs, usages or requested validity changed: CR, with a new
//     key if the key must change too;
//   - only the key must change (user key changed, generated-key parameters
//     changed, rotation_triggers changed, renewal window open): KUR;
//   - anything else: state only.
//
// A planned KeyPEM of "" means the provider generates the key.
func classifyUpdate(prior, planned certificateIntent, now, renewAt, notAfter time.Time) updateDecision {
	if !now.Before(notAfter) {
		return updateDecision{Op: opReplace, NewKey: true, Why: []string{
			fmt.Sprintf("the certificate expired at %s", formatTime(notAfter))}}
	}

	var content []string
	if prior.Subject != planned.Subject {
		content = append(content, "subject changed")
	}
	if prior.ValidityHours != planned.ValidityHours {
		content = append(content, "validity_period_hours changed")
	}
	for _, f := range []struct {
		name      string
		a, b      []string
		normalize func(string) string
	}{
		{"dns_names", prior.DNSNames, planned.DNSNames, strings.ToLower},
		{"ip_addresses", prior.IPAddresses, planned.IPAddresses, canonicalIP},
		{"uris", prior.URIs, planned.URIs, nil},
		{"email_addresses", prior.EmailAddresses, planned.EmailAddresses, nil},
		{"key_usages", prior.KeyUsages, planned.KeyUsages, nil},
		{"extended_key_usages", prior.ExtendedKeyUsages, planned.ExtendedKeyUsages, nil},
	} {
		if !sameSet(f.a, f.b, f.normalize) {
			content = append(content, f.name+" changed")
		}
	}

	var key []string
	generated := planned.KeyPEM == ""
	switch {
	case !generated && planned.KeyPEM != prior.KeyPEM:
		key = append(key, "private_key_pem changed")
	case generated && normalizedSpec(planned.KeySpec) != normalizedSpec(prior.KeySpec):
		key = append(key, "the generated key's algorithm, size or curve changed")
	}
	if !maps.Equal(prior.RotationTriggers, planned.RotationTriggers) {
		key = append(key, "rotation_triggers changed")
	}
	renewalDue := !now.Before(renewAt)
	newKey := len(key) > 0

	switch {
	case len(content) > 0:
		why := append(content, key...)
		if renewalDue {
			why = append(why, renewalReason(renewAt))
		}
		return updateDecision{Op: opCR, NewKey: newKey, Why: why}
	case newKey:
		return updateDecision{Op: opKUR, NewKey: true, Why: key}
	case renewalDue:
		// A user-supplied key that did not change is kept: KUR with the
		// same key (RFC 4210 section 5.3.5 allows it); a generated key is
		// replaced at every KUR, as private_key_pem's description promises.
		return updateDecision{Op: opKUR, NewKey: generated, Why: []string{renewalReason(renewAt)}}
	default:
		return updateDecision{Op: opNone}
	}
}

func renewalReason(renewAt time.Time) string {
	return fmt.Sprintf("the renewal window opened at %s", formatTime(renewAt))
}

// normalizedSpec keeps only the fields that matter for the algorithm, so a
// changed rsa_bits does not count for an ECDSA key.
func normalizedSpec(s keySpec) keySpec {
	switch s.Algorithm {
	case keyAlgorithmRSA:
		return keySpec{Algorithm: s.Algorithm, RSABits: s.RSABits}
	case keyAlgorithmECDSA:
		return keySpec{Algorithm: s.Algorithm, Curve: s.Curve}
	default:
		return keySpec{Algorithm: s.Algorithm}
	}
}

// sameSet compares two lists as sets after normalize (nil: as is): the
// order of SANs or usages is no reason to ask the CA for a new certificate.
func sameSet(a, b []string, normalize func(string) string) bool {
	norm := func(list []string) []string {
		out := make([]string, 0, len(list))
		for _, s := range list {
			if normalize != nil {
				s = normalize(s)
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

// canonicalIP writes an IP address the one way netip prints it, so
// "::1" and "0:0::1" compare equal.
func canonicalIP(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return s
}

func operationName(op operation) string {
	switch op {
	case opCR:
		return "certification request (CR)"
	case opKUR:
		return "key update request (KUR)"
	default:
		return "initialization request (IR)"
	}
}
