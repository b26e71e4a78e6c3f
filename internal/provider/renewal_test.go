package provider

import (
	"slices"
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
		{name: "renew_after_issue", s: renewalSettings{After: 240 * time.Hour}, want: t0.Add(240 * time.Hour)},
		{
			name: "both: the earlier wins (after)",
			s:    renewalSettings{Before: 240 * time.Hour, After: 480 * time.Hour},
			want: t0.Add(480 * time.Hour),
		},
		{
			name: "both: the earlier wins (before)",
			s:    renewalSettings{Before: 1800 * time.Hour, After: 1900 * time.Hour},
			want: t1.Add(-1800 * time.Hour),
		},
		{
			name: "window longer than the granted validity falls back to the default",
			s:    renewalSettings{Before: 2400 * time.Hour}, want: t0.Add(60 * 24 * time.Hour), wantFellBack: true,
		},
		{
			name: "window exactly the granted validity falls back to the default",
			s:    renewalSettings{Before: 90 * 24 * time.Hour}, want: t0.Add(60 * 24 * time.Hour), wantFellBack: true,
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
