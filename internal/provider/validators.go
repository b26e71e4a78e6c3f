package provider

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// stringCheck is a plan-time validator built from one of the check functions
// the provider also runs at configure time, so a value from the configuration
// and the same value from an environment variable are judged alike.
type stringCheck struct {
	summary     string
	description string
	check       func(string) error
}

var _ validator.String = stringCheck{}

func (v stringCheck) Description(context.Context) string         { return v.description }
func (v stringCheck) MarkdownDescription(context.Context) string { return v.description }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		// The detail names the attribute: Terraform points at the resource,
		// not at the attribute, when the value sits inside an object
		// (server = { ... }, enrollment = { ... }).
		resp.Diagnostics.AddAttributeError(req.Path, v.summary, req.Path.String()+": "+err.Error())
	}
}

func urlValidator() validator.String {
	return stringCheck{
		summary:     "Invalid CMP server URL",
		description: "value must be an http or https URL with a host",
		check:       checkURL,
	}
}

func durationValidator() validator.String {
	return stringCheck{
		summary:     "Invalid duration",
		description: "value must be a positive Go duration such as \"30s\" or \"720h\"",
		check: func(s string) error {
			_, err := checkDuration(s)
			return err
		},
	}
}

func certificatesPEMValidator() validator.String {
	return stringCheck{
		summary:     "Invalid certificate PEM",
		description: "value must hold one or more PEM \"CERTIFICATE\" blocks",
		check: func(s string) error {
			_, err := parseCertificatesPEM(s)
			if err != nil && !strings.Contains(s, "-----BEGIN") {
				return fmt.Errorf("%w: the value holds PEM itself; to read a file, write file(\"<path>\")", err)
			}
			return err
		},
	}
}

func privateKeyPEMValidator() validator.String {
	return stringCheck{
		summary:     "Invalid private key PEM",
		description: "value must be one PEM private key (PKCS#8, PKCS#1 RSA or SEC 1 EC)",
		check: func(s string) error {
			_, err := parsePrivateKeyPEM(s)
			return err
		},
	}
}

// cmpURLShape is what every URL error says a CMP URL looks like.
const cmpURLShape = "a CMP URL is http:// or https://, a host (with an optional port) and the path, " +
	"such as https://ca.example/.well-known/cmp"

// checkURL accepts the URL of a CMP endpoint: http or https with a host.
// Plain http is allowed because CMP messages carry their own protection
// (RFC 6712 section 3.1); credentials belong in basic_auth, not in the URL,
// so that they never appear where URLs are logged. A query is kept and
// sent; a fragment never reaches the server and is refused. Errors never
// quote the value (it may carry a password); a value without a scheme gets
// the URL it most likely means, when that URL passes this check.
func checkURL(s string) error {
	err := checkURLShape(s)
	lower := strings.ToLower(s)
	if err == nil || strings.Contains(s, "://") || strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:") {
		return err
	}
	guess := "https://" + strings.TrimPrefix(s, "//")
	if checkURLShape(guess) != nil {
		return fmt.Errorf("the URL has no scheme: %s", cmpURLShape)
	}
	return fmt.Errorf("the URL has no scheme: %s; did you mean %s?", cmpURLShape, guess)
}

// checkURLShape is checkURL without the guess.
func checkURLShape(s string) error {
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return fmt.Errorf("the URL contains white space (percent-encode a space in the path as %%20): %s", cmpURLShape)
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse's error quotes the whole input, password included.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("not a URL (%s): %w", cmpURLShape, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https, got %q: %s", u.Scheme, cmpURLShape)
	}
	if u.User != nil {
		return errors.New("the URL carries user information; set basic_auth instead")
	}
	if u.Hostname() == "" {
		return fmt.Errorf("the URL has no host: %s", cmpURLShape)
	}
	if u.Fragment != "" || strings.HasSuffix(s, "#") {
		return errors.New("the URL has a fragment, which HTTP never sends")
	}
	return nil
}

// checkDuration parses a positive Go duration such as "30s" or "720h".
func checkDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("not a Go duration such as \"30s\" or \"720h\": %w", err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive, got %s", s)
	}
	return d, nil
}

// parseCertificatesPEM parses one or more PEM "CERTIFICATE" blocks and
// nothing else (pemkey.ParseCertificates), so a private key pasted into a
// certificate attribute is caught at plan time.
func parseCertificatesPEM(s string) ([]*x509.Certificate, error) {
	return pemkey.ParseCertificates([]byte(s))
}

func distinguishedNameValidator() validator.String {
	return stringCheck{
		summary:     "Invalid distinguished name",
		description: "value must be an RFC 4514 distinguished name such as \"CN=CMP CA,O=Example\"",
		check: func(s string) error {
			_, err := parseDistinguishedName(s)
			return err
		},
	}
}

func ipAddressValidator() validator.String {
	return stringCheck{
		summary:     "Invalid IP address",
		description: "value must be an IPv4 or IPv6 address",
		check: func(s string) error {
			if _, err := netip.ParseAddr(s); err != nil {
				return fmt.Errorf("%q is not an IP address", s)
			}
			return nil
		},
	}
}

func uriValidator() validator.String {
	return stringCheck{
		summary:     "Invalid URI",
		description: "value must be an absolute URI such as \"spiffe://example.org/web\"",
		check: func(s string) error {
			u, err := url.Parse(s)
			if err != nil {
				return fmt.Errorf("not a URI: %w", err)
			}
			if u.Scheme == "" {
				return fmt.Errorf("%q has no scheme; a SAN URI must be absolute (RFC 5280 section 4.2.1.6)", s)
			}
			return nil
		},
	}
}

func emailValidator() validator.String {
	return stringCheck{
		summary:     "Invalid email address",
		description: "value must be a bare email address such as \"ops@example.org\"",
		check: func(s string) error {
			addr, err := mail.ParseAddress(s)
			if err != nil || addr.Address != s || addr.Name != "" {
				return fmt.Errorf("%q is not a bare email address (an rfc822Name, RFC 5280 section 4.2.1.6)", s)
			}
			return nil
		},
	}
}

func dnsNameValidator() validator.String {
	return stringCheck{
		summary:     "Invalid DNS name",
		description: "value must be a DNS name, optionally with a leading \"*.\" wildcard label",
		check:       checkDNSName,
	}
}

// checkDNSName accepts host names as a dNSName SAN holds them (RFC 5280
// section 4.2.1.6: preferred name syntax, RFC 1034), with one leading
// wildcard label as CAs commonly issue them.
func checkDNSName(s string) error {
	name := strings.TrimSuffix(strings.TrimPrefix(s, "*."), ".")
	if name == "" || len(name) > 253 {
		return fmt.Errorf("%q is not a DNS name", s)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%q is not a DNS name: bad label %q", s, label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%q is not a DNS name: character %q", s, c)
			}
		}
	}
	return nil
}

func countryValidator() validator.String {
	return stringCheck{
		summary:     "Invalid country code",
		description: "value must be a two-letter ISO 3166 country code such as \"FI\"",
		check: func(s string) error {
			// RFC 5280 appendix A: CountryName is a PrintableString of size 2.
			if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
				return fmt.Errorf("%q is not a two-letter country code", s)
			}
			return nil
		},
	}
}

func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }
