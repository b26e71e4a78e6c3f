package provider

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(90 * 24 * time.Hour) // 90 days of validity
)

func TestRenewalTime(t *testing.T) {
	cases := []struct {
		name         string
		s            renewalSettings
		want         time.Time
		wantFellBack bool
	}{
		{name: "default: one third of the validity remains", want: t0.Add(60 * 24 * time.Hour)},
		{name: "renew_before_expiry", s: renewalSettings{Before: 720 * time.Hour}, want: t1.Add(-720 * time.Hour)},
		{name: "renew_after_issue", s: renewalSettings{After: 1200 * time.Hour}, want: t0.Add(1200 * time.Hour)},
		{
			name: "both: the earlier wins (after)",
			s:    renewalSettings{Before: 240 * time.Hour, After: 1500 * time.Hour},
			want: t0.Add(1500 * time.Hour),
		},
		{
			name: "both: the earlier wins (before)",
			s:    renewalSettings{Before: 1000 * time.Hour, After: 1900 * time.Hour},
			want: t1.Add(-1000 * time.Hour),
		},
		{
			name: "window longer than the granted validity falls back to the default",
			s:    renewalSettings{Before: 2400 * time.Hour}, want: t0.Add(60 * 24 * time.Hour), wantFellBack: true,
		},
		{
			name: "window exactly the granted validity falls back to the default",
			s:    renewalSettings{Before: 90 * 24 * time.Hour}, want: t0.Add(60 * 24 * time.Hour), wantFellBack: true,
		},
		{
			name: "renew_before_expiry of half the validity fits",
			s:    renewalSettings{Before: 1080 * time.Hour}, want: t0.Add(1080 * time.Hour),
		},
		{
			name: "renew_before_expiry a second over half the validity falls back",
			s:    renewalSettings{Before: 1080*time.Hour + time.Second}, want: t0.Add(60 * 24 * time.Hour), wantFellBack: true,
		},
		{
			name: "renew_before_expiry just under the validity falls back",
			s:    renewalSettings{Before: 2159 * time.Hour}, want: t0.Add(60 * 24 * time.Hour), wantFellBack: true,
		},
		{
			name: "renew_after_issue of half the validity fits",
			s:    renewalSettings{After: 1080 * time.Hour}, want: t0.Add(1080 * time.Hour),
		},
		{
			name: "renew_after_issue under half the validity falls back",
			s:    renewalSettings{After: 720 * time.Hour}, want: t0.Add(60 * 24 * time.Hour), wantFellBack: true,
		},
		{
			name: "renew_after_issue just under the validity fits",
			s:    renewalSettings{After: 2159 * time.Hour}, want: t1.Add(-time.Hour),
		},
		{
			name: "renew_after_issue at the validity would open at expiry: falls back",
			s:    renewalSettings{After: 2160 * time.Hour}, want: t0.Add(60 * 24 * time.Hour), wantFellBack: true,
		},
		{
			name: "renew_after_issue past the validity falls back",
			s:    renewalSettings{After: 2161 * time.Hour}, want: t0.Add(60 * 24 * time.Hour), wantFellBack: true,
		},
		{
			name: "both, renew_before_expiry does not fit: renew_after_issue applies",
			s:    renewalSettings{Before: 2160 * time.Hour, After: 1500 * time.Hour}, want: t0.Add(1500 * time.Hour),
			wantFellBack: true,
		},
		{
			name: "both, neither fits: the default",
			s:    renewalSettings{Before: 2000 * time.Hour, After: 2400 * time.Hour}, want: t0.Add(60 * 24 * time.Hour),
			wantFellBack: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, fellBack := renewalTime(t0, t1, tc.s)
			if !got.Equal(tc.want) || fellBack != tc.wantFellBack {
				t.Errorf("got %s (fell back %v), want %s (fell back %v)", got, fellBack, tc.want, tc.wantFellBack)
			}
		})
	}
}

// TestRenewalNeverDueAtIssue: whatever the window, a certificate is not
// due for renewal when it is issued, for validities from the development
// CA's 90 seconds to a year and any backdating below half the granted
// validity; the window asked for applies whenever it fits.
func TestRenewalNeverDueAtIssue(t *testing.T) {
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, requested := range []time.Duration{90 * time.Second, time.Hour, 24 * time.Hour, 720 * time.Hour,
		2160 * time.Hour, 8760 * time.Hour} {
		for _, backdate := range []time.Duration{0, time.Second, time.Minute, 10 * time.Minute, time.Hour, requested - time.Second} {
			notBefore, notAfter := issued.Add(-backdate), issued.Add(requested)
			granted := notAfter.Sub(notBefore)
			if 2*backdate >= granted {
				continue // backdated by half or more of the validity
			}
			for _, w := range []time.Duration{time.Second, requested / 3, requested / 2, requested - time.Second,
				requested, requested + backdate, granted + time.Second, 2 * requested} {
				for _, s := range []renewalSettings{{Before: w}, {After: w}, {Before: w, After: w}} {
					at, fellBack := renewalTime(notBefore, notAfter, s)
					if !at.After(issued) || !at.Before(notAfter) {
						t.Errorf("requested %s backdated %s, %+v: renewal at %s, issued %s, expires %s", requested,
							backdate, s, at, issued, notAfter)
					}
					if !fellBack {
						opens := notAfter.Add(-s.Before)
						if s.Before == 0 || (s.After > 0 && notBefore.Add(s.After).Before(opens)) {
							opens = notBefore.Add(s.After)
						}
						if !at.Equal(opens) {
							t.Errorf("requested %s backdated %s, %+v: renewal at %s, want the window's %s", requested,
								backdate, s, at, opens)
						}
					}
				}
			}
		}
	}
}

// TestRenewalFallback: the plan's warning for a window set aside names the
// window, the validity the CA granted, the rule applied instead and the fix.
func TestRenewalFallback(t *testing.T) {
	notBefore := t0.Add(-time.Minute) // backdated by a minute, as the development CA does
	notAfter := t0.Add(2160 * time.Hour)
	cases := []struct {
		name     string
		s        renewalSettings
		wantAttr string
		want     []string // "" detail when nil
	}{
		{name: "window fits: no warning", s: renewalSettings{Before: 720 * time.Hour}},
		{name: "no setting: no warning"},
		{name: "renew_before_expiry as long as the requested validity", s: renewalSettings{Before: 2160 * time.Hour},
			wantAttr: "renew_before_expiry", want: []string{
				`renew_before_expiry = "2160h0m0s" would open the renewal window at 2026-01-01T00:00:00Z, 1m0s after not_before`,
				"the CA granted 2160h1m0s of validity (2025-12-31T23:59:00Z to 2026-04-01T00:00:00Z)",
				"at least half of the granted validity",
				"The default rule applies instead: renewal is due when one third of the validity remains, at 2026-03-01T23:59:40Z",
				"at most half of the validity (1080h0m30s)", "validity_period_hours = 4320 or more"}},
		{name: "renew_after_issue past expiry", s: renewalSettings{After: 2400 * time.Hour},
			wantAttr: "renew_after_issue", want: []string{
				`renew_after_issue = "2400h0m0s" would open the renewal window at`, "when the certificate has expired",
				"The default rule applies instead", "validity_period_hours = 2401 or more"}},
		{name: "renew_after_issue too early, renew_before_expiry fits", s: renewalSettings{Before: 240 * time.Hour, After: 24 * time.Hour},
			wantAttr: "renew_after_issue", want: []string{
				`renew_after_issue = "24h0m0s" would open the renewal window at 2026-01-01T23:59:00Z, 24h0m0s after not_before`,
				"The other setting applies: renewal is due at 2026-03-22T00:00:00Z",
				"validity_period_hours = 48 or less"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			attr, detail := renewalFallback(notBefore, notAfter, tc.s, true)
			if attr != tc.wantAttr {
				t.Errorf("attribute %q, want %q", attr, tc.wantAttr)
			}
			if tc.want == nil && detail != "" {
				t.Errorf("detail %q, want none", detail)
			}
			for _, w := range tc.want {
				if !strings.Contains(detail, w) {
					t.Errorf("detail %q does not say %q", detail, w)
				}
			}
		})
	}
}

func TestClassifyUpdate(t *testing.T) {
	ecdsa := keySpec{Algorithm: "ECDSA", Curve: "P256", RSABits: 2048}
	base := certificateIntent{
		Subject:           "CN=web.example",
		DNSNames:          []string{"web.example", "www.example"},
		IPAddresses:       []string{"192.0.2.1", "2001:db8::1"},
		KeyUsages:         []string{"digital_signature"},
		ExtendedKeyUsages: []string{"server_auth"},
		KeySpec:           ecdsa,
		RotationTriggers:  map[string]string{"epoch": "1"},
	}
	prior := base
	prior.KeyPEM = "GENERATED-KEY" // the state always holds the current key
	renewAt := t0.Add(60 * 24 * time.Hour)
	before := t0.Add(24 * time.Hour)

	edit := func(f func(c *certificateIntent)) certificateIntent {
		c := base
		c.DNSNames = slices.Clone(base.DNSNames)
		c.IPAddresses = slices.Clone(base.IPAddresses)
		f(&c)
		return c
	}
	cases := []struct {
		name    string
		prior   certificateIntent
		planned certificateIntent
		now     time.Time
		want    updateDecision
	}{
		{name: "nothing changed", prior: prior, planned: base, now: before, want: updateDecision{}},
		{
			name: "SAN order and spelling are not changes", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) {
				c.DNSNames = []string{"WWW.example", "web.example"}
				c.IPAddresses = []string{"2001:db8:0::1", "192.0.2.1"}
			}),
			want: updateDecision{},
		},
		{
			name: "subject changed: CR keeping the key", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) { c.Subject = "CN=web2.example" }),
			want:    updateDecision{Op: opCR, Why: []string{"subject changed"}},
		},
		{
			name: "requested validity changed: CR", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) { c.ValidityHours = 720 }),
			want:    updateDecision{Op: opCR, Why: []string{"validity_period_hours changed"}},
		},
		{
			name: "certificate profile changed: CR", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) { c.Profile = "tls-client" }),
			want:    updateDecision{Op: opCR, Why: []string{"certificate_profile changed"}},
		},
		{
			name: "SAN added: CR", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) { c.DNSNames = append(c.DNSNames, "api.example") }),
			want:    updateDecision{Op: opCR, Why: []string{"dns_names changed"}},
		},
		{
			name: "usages changed: CR", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) {
				c.KeyUsages = []string{"digital_signature", "key_encipherment"}
				c.ExtendedKeyUsages = []string{"client_auth"}
			}),
			want: updateDecision{Op: opCR, Why: []string{"key_usages changed", "extended_key_usages changed"}},
		},
		{
			name: "subject and trigger changed: CR with a new key", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) {
				c.URIs = []string{"spiffe://example/web"}
				c.RotationTriggers = map[string]string{"epoch": "2"}
			}),
			want: updateDecision{Op: opCR, NewKey: true, Why: []string{"uris changed", "rotation_triggers changed"}},
		},
		{
			name: "trigger changed: KUR", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) { c.RotationTriggers = map[string]string{"epoch": "2"} }),
			want:    updateDecision{Op: opKUR, NewKey: true, Why: []string{"rotation_triggers changed"}},
		},
		{
			name: "trigger removed: KUR", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) { c.RotationTriggers = nil }),
			want:    updateDecision{Op: opKUR, NewKey: true, Why: []string{"rotation_triggers changed"}},
		},
		{
			name: "generated key's curve changed: KUR", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) { c.KeySpec.Curve = "P384" }),
			want: updateDecision{Op: opKUR, NewKey: true,
				Why: []string{"the generated key's algorithm, size or curve changed"}},
		},
		{
			name: "rsa_bits changed on an ECDSA key: state only", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) { c.KeySpec.RSABits = 4096 }),
			want:    updateDecision{},
		},
		{
			name: "user-supplied key replaces the generated one: KUR", prior: prior, now: before,
			planned: edit(func(c *certificateIntent) { c.KeyPEM = "USER-KEY" }),
			want:    updateDecision{Op: opKUR, NewKey: true, Why: []string{"private_key_pem changed"}},
		},
		{
			name:  "user-supplied key unchanged: state only",
			prior: func() certificateIntent { p := prior; p.KeyPEM = "USER-KEY"; return p }(), now: before,
			planned: edit(func(c *certificateIntent) { c.KeyPEM = "USER-KEY"; c.KeySpec.Curve = "P521" }),
			want:    updateDecision{},
		},
		{
			name: "renewal window open: KUR with a new generated key", prior: prior, planned: base, now: renewAt,
			want: updateDecision{Op: opKUR, NewKey: true,
				Why: []string{"the renewal window opened at 2026-03-02T00:00:00Z"}},
		},
		{
			name:  "renewal window open with a user key: KUR with the same key",
			prior: func() certificateIntent { p := prior; p.KeyPEM = "USER-KEY"; return p }(), now: renewAt.Add(time.Hour),
			planned: edit(func(c *certificateIntent) { c.KeyPEM = "USER-KEY" }),
			want:    updateDecision{Op: opKUR, Why: []string{"the renewal window opened at 2026-03-02T00:00:00Z"}},
		},
		{
			name: "renewal window open and subject changed: CR", prior: prior, now: renewAt,
			planned: edit(func(c *certificateIntent) { c.Subject = "CN=x" }),
			want: updateDecision{Op: opCR,
				Why: []string{"subject changed", "the renewal window opened at 2026-03-02T00:00:00Z"}},
		},
		{
			name: "expired: replace with a new IR", prior: prior, planned: base, now: t1,
			want: updateDecision{Op: opReplace, NewKey: true, Why: []string{"the certificate expired at 2026-04-01T00:00:00Z"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classifyUpdate(tc.prior, tc.planned, tc.now, renewAt, t1)
			if got.Op != tc.want.Op || got.NewKey != tc.want.NewKey || !slices.Equal(got.Why, tc.want.Why) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
