package provider

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// inputChecks are the plan-time checks of free-text attributes.
var inputChecks = map[string]func() validator.String{
	"url": urlValidator, "duration": durationValidator, "certificates PEM": certificatesPEMValidator,
	"private key PEM": privateKeyPEMValidator, "distinguished name": distinguishedNameValidator,
	"IP address": ipAddressValidator, "URI": uriValidator, "email": emailValidator, "DNS name": dnsNameValidator,
	"country": countryValidator,
}

// FuzzInputChecks: no plan-time check panics on what a user may type, and
// each gives the same verdict twice.
func FuzzInputChecks(f *testing.F) {
	for _, s := range []string{"", "https://ca.example/.well-known/cmp", "720h", "-1h", "10.0.0.1", "fe80::1", "::g",
		"urn:uuid:1", "http://[::1", "ops@example.org", "Ops <ops@example.org>", "web.example", "*.example", "web..example",
		"CN=CMP CA,O=Example,C=DE", "DE", "FIN", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, newCheck := range inputChecks {
			c, ok := newCheck().(stringCheck)
			if !ok {
				t.Fatalf("%s is not a stringCheck", name)
			}
			first, second := c.check(s), c.check(s)
			if (first == nil) != (second == nil) {
				t.Fatalf("%s: verdict changed between two checks of %q", name, s)
			}
		}
	})
}

// FuzzURLCheckHidesPassword: whatever the URL, the error of the URL check
// never repeats a password written into it (the error is shown to the
// user and logged).
func FuzzURLCheckHidesPassword(f *testing.F) {
	f.Add("s3cret-pass", "127.0.0.1:8829/.well-known/cmp")
	f.Add("bad¤userinfo", "127.0.0.1/")
	f.Add("p%zz", "ca.example")
	f.Add("pw", "[::1")
	f.Fuzz(func(t *testing.T, password, rest string) {
		// Too short, or present anyway in the rest of the URL or in its
		// quoted form (an escape such as \xe0 followed by digits): a match
		// would be a coincidence, not a leak.
		if len(password) < 6 || strings.Contains(rest, password) || strings.Contains(strconv.Quote(rest), password) ||
			strings.Contains("http://user:@", password) {
			return
		}
		c := urlValidator().(stringCheck)
		err := c.check("http://user:" + password + "@" + rest)
		if err != nil && strings.Contains(err.Error(), password) {
			t.Fatalf("the URL check's error repeats the password: %v", err)
		}
	})
}
