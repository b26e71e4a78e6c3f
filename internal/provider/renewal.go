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
// A configured window counts only when it fits (renewalFits); a setting
// whose window does not fit is set aside, and with none left the default
// rule applies. fellBack says a setting was set aside, for the plan's
// warning (renewalFallback says which and why).
func renewalTime(notBefore, notAfter time.Time, s renewalSettings) (t time.Time, fellBack bool) {
	found := false
	for _, c := range configuredWindows(notBefore, notAfter, s) {
		switch {
		case c.d <= 0:
		case !renewalFits(notBefore, notAfter, c.opens):
			fellBack = true
		case !found || c.opens.Before(t):
			t, found = c.opens, true
		}
	}
	if !found {
		t = defaultRenewalTime(notBefore, notAfter)
	}
	return t, fellBack
}

// configuredWindow is a renewal setting and when its window opens.
type configuredWindow struct {
	name  string
	d     time.Duration // 0: unset
	opens time.Time
}

// configuredWindows are the windows renew_before_expiry and
// renew_after_issue open on a certificate valid from notBefore to notAfter.
func configuredWindows(notBefore, notAfter time.Time, s renewalSettings) [2]configuredWindow {
	return [2]configuredWindow{
		{"renew_before_expiry", s.Before, notAfter.Add(-s.Before)},
		{"renew_after_issue", s.After, notBefore.Add(s.After)},
	}
}

// defaultRenewalTime is when one third of the validity remains.
func defaultRenewalTime(notBefore, notAfter time.Time) time.Time {
	return notAfter.Add(-notAfter.Sub(notBefore) / 3)
}

// renewalFits reports whether a configured renewal window opening at
// opens fits the validity the CA granted, notBefore to notAfter: it must
// open once at least half of that validity has passed, and before
// notAfter.
//
// The lower bound is what keeps a certificate from being due the moment
// it is issued. CAs backdate notBefore (by a minute, an hour, ten minutes:
// it varies by CA and is not announced), so the granted validity is the
// requested one plus the backdating, and a window as long as the requested
// validity ("renew_before_expiry = 2160h" with a CA that grants 90 days)
// opens a moment after notBefore, before the certificate even reached the
// provider: every apply would then send a KUR and revoke a certificate,
// and a CA that bills per certificate bills each one. Comparing the window
// with the granted validity cannot tell "just under" from "equal plus
// backdating"; half of the validity can: such a window opens before the
// certificate was issued only when the CA backdates by half or more of what
// it grants, which no CA whose certificates live longer after their issue
// than before does (a 90-second certificate backdated by a minute, as the
// development CA issues with -max-validity 90s, stays below; a bound of a
// third would not). The default rule, at two thirds, holds under the same
// condition. A window opening in the first half would also renew more
// than twice per validity period: a 30-day certificate with
// renew_before_expiry = "720h" (written for 90-day certificates) renews
// when 10 days remain instead, as it would with no setting. A schedule
// more frequent than that is asked for with a shorter
// validity_period_hours, or by changing rotation_triggers.
//
// The upper bound is renew_after_issue's: a window opening at or after
// notAfter ("2160h" with a CA that grants 30 days) never opens before the
// certificate expires, and an expired certificate is replaced by a new IR
// instead of renewed with a KUR.
func renewalFits(notBefore, notAfter, opens time.Time) bool {
	half := notBefore.Add(notAfter.Sub(notBefore) / 2)
	return !opens.Before(half) && opens.Before(notAfter)
}

// renewalFallback explains why renewalTime set a configured window aside:
// the attribute to point at (the first setting set aside) and what the
// plan's warning says, naming each window set aside, the validity the CA
// granted and the rule that applies instead. It is "" when none was.
// issued says notBefore and notAfter are an issued certificate's; else
// they are a certificate requested with validity_period_hours, as if
// issued at notBefore, and the detail names no time.
func renewalFallback(notBefore, notAfter time.Time, s renewalSettings, issued bool) (attribute, detail string) {
	renewAt, fellBack := renewalTime(notBefore, notAfter, s)
	if !fellBack {
		return "", ""
	}
	granted := notAfter.Sub(notBefore)
	var b strings.Builder
	otherFits := false
	var fixes []string
	for _, c := range configuredWindows(notBefore, notAfter, s) {
		if c.d <= 0 {
			continue
		}
		if renewalFits(notBefore, notAfter, c.opens) {
			otherFits = true
			continue
		}
		if attribute == "" {
			attribute = c.name
		}
		fmt.Fprintf(&b, "%s = %q would open the renewal window ", c.name, c.d.String())
		if issued {
			fmt.Fprintf(&b, "at %s, ", formatTime(c.opens))
		}
		switch {
		case c.opens.Before(notBefore):
			b.WriteString("before the certificate's validity starts")
		case c.opens.Before(notAfter):
			fmt.Fprintf(&b, "%s after not_before", c.opens.Sub(notBefore))
		default:
			b.WriteString("when the certificate has expired")
		}
		if issued {
			fmt.Fprintf(&b, ", but the CA granted %s of validity (%s to %s). ", granted, formatTime(notBefore),
				formatTime(notAfter))
		} else {
			fmt.Fprintf(&b, ", but validity_period_hours requests %s. ", granted)
		}
		fixes = append(fixes, renewalFix(c.name, c.d, granted))
	}
	b.WriteString("A configured window must open once at least half of the granted validity has passed and " +
		"before it ends, so that a certificate is never due for renewal when it is issued (CAs backdate " +
		"not_before) and is renewed before it expires. ")
	due := fmt.Sprintf("%s after not_before", renewAt.Sub(notBefore))
	if issued {
		due = formatTime(renewAt)
	}
	if otherFits {
		fmt.Fprintf(&b, "The other setting applies: renewal is due at %s.", due)
	} else {
		fmt.Fprintf(&b, "The default rule applies instead: renewal is due when one third of the validity "+
			"remains, at %s.", due)
	}
	for _, fix := range fixes {
		b.WriteString(" " + fix)
	}
	return attribute, b.String()
}

// renewalFix says how to make a renewal setting name = d fit a validity
// (renewalFits), for an error or warning that names the fix.
func renewalFix(name string, d, validity time.Duration) string {
	hours := func(d time.Duration) int64 { return int64(d / time.Hour) }
	var fix string
	switch {
	case name == "renew_before_expiry":
		fix = fmt.Sprintf("set renew_before_expiry to at most half of the validity (%s), request "+
			"validity_period_hours = %d or more", validity/2, hours(2*d+time.Hour-1))
	case d >= validity:
		fix = fmt.Sprintf("set renew_after_issue to less than the validity (%s), request "+
			"validity_period_hours = %d or more", validity, hours(d)+1)
	default:
		fix = fmt.Sprintf("set renew_after_issue to at least half of the validity (%s), request "+
			"validity_period_hours = %d or less", validity/2, hours(2*d))
	}
	return "To fix it, " + fix + ", or remove " + name + ": renewal is then due when one third of the " +
		"validity remains."
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
	ValidityHours     int64  // 0: unset, the CA decides
	Profile           string // certificate_profile; "": none

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
	if prior.Profile != planned.Profile {
		content = append(content, "certificate_profile changed")
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
