package provider

import (
	"fmt"
	"strings"
	"testing"
)

// hclConfig renders the configuration of an acceptance test: a provider
// block and one resource (provider renders the block alone). An empty
// string leaves its provider attribute out.
type hclConfig struct {
	// The provider block.
	url, reference, secret, messageTimeout, trustedCAPEM string
	// terraform adds a terraform block that requires the provider from
	// its registry address, for a configuration the Terraform CLI runs
	// outside the test framework.
	terraform bool
	// resourceType is cmpv2_certificate when empty; name is "test" when
	// empty; body goes inside the resource's braces.
	resourceType, name, body string
}

// String is the whole configuration.
func (c hclConfig) String() string {
	var b strings.Builder
	if c.terraform {
		b.WriteString("terraform {\n  required_providers {\n    cmpv2 = { source = \"cmpv2/cmpv2\" }\n  }\n}\n")
	}
	b.WriteString(c.provider())
	typ, name := c.resourceType, c.name
	if typ == "" {
		typ = "cmpv2_certificate"
	}
	if name == "" {
		name = "test"
	}
	fmt.Fprintf(&b, "resource %q %q {\n%s\n}\n", typ, name, c.body)
	return b.String()
}

// provider is the provider block alone.
func (c hclConfig) provider() string {
	var b strings.Builder
	b.WriteString("\nprovider \"cmpv2\" {\n")
	for _, a := range []struct{ name, value string }{
		{"url", c.url}, {"reference", c.reference}, {"secret", c.secret}, {"message_timeout", c.messageTimeout},
	} {
		if a.value != "" {
			fmt.Fprintf(&b, "  %-15s = %q\n", a.name, a.value)
		}
	}
	if c.trustedCAPEM != "" {
		fmt.Fprintf(&b, "  trusted_ca_pem  = <<EOT\n%sEOT\n", c.trustedCAPEM)
	}
	b.WriteString("}\n")
	return b.String()
}

func TestHCLConfig(t *testing.T) {
	const pemText = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	tests := []struct {
		name          string
		config        hclConfig
		want, notWant []string
	}{
		{name: "provider attributes", config: hclConfig{url: "http://ca/", messageTimeout: "5s"},
			want:    []string{"provider \"cmpv2\" {\n", `url             = "http://ca/"`, `message_timeout = "5s"`},
			notWant: []string{"reference", "secret", "trusted_ca_pem", "terraform"}},
		{name: "empty resource", config: hclConfig{},
			want: []string{"provider \"cmpv2\" {\n}\n", "resource \"cmpv2_certificate\" \"test\" {\n\n}\n"}},
		{name: "credentials and trust anchor", config: hclConfig{url: "http://ca/", reference: "r", secret: "s", trustedCAPEM: pemText},
			want: []string{`reference       = "r"`, `secret          = "s"`, "trusted_ca_pem  = <<EOT\n" + pemText + "EOT\n}"}},
		{name: "certificate by default", config: hclConfig{body: `subject = { common_name = "a" }`},
			want: []string{"resource \"cmpv2_certificate\" \"test\" {\nsubject = { common_name = \"a\" }\n}\n"}},
		{name: "named server", config: hclConfig{resourceType: "cmpv2_server", name: "second", body: `url = "http://ca/"`},
			want: []string{"resource \"cmpv2_server\" \"second\" {\nurl = \"http://ca/\"\n}"}, notWant: []string{"cmpv2_certificate"}},
		{name: "for the Terraform CLI", config: hclConfig{terraform: true, name: "c", body: "count = 2"},
			want: []string{`cmpv2 = { source = "cmpv2/cmpv2" }`, "provider \"cmpv2\" {\n}\n", `resource "cmpv2_certificate" "c"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.config.String()
			if !strings.Contains(got, tc.config.provider()) {
				t.Errorf("the configuration does not hold its provider block:\n%s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in:\n%s", w, got)
				}
			}
			if strings.Count(got, "{") != strings.Count(got, "}") {
				t.Errorf("unbalanced braces:\n%s", got)
			}
		})
	}
}
