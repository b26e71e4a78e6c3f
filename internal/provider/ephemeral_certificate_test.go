package provider

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestAccEphemeralCertificate runs a configuration in which an ephemeral
// cmpv2_certificate is the mutual-TLS client certificate of a second
// provider configuration, whose data source can reach the CA only with
// it, through the Terraform CLI (and OpenTofu where at hand): plan to a
// file, apply that plan. The certificate and its key are then in neither
// the state file nor the plan file (raw, every entry of the archive, and
// `show -json`); the CA saw an IR with certConf for every open and, with
// revoke_on_close, an RR for every close.
func TestAccEphemeralCertificate(t *testing.T) {
	eachCLI(t, func(t *testing.T, cli string) {
		clearProviderEnv(t)
		e := startCA(t, devca.Config{})
		// The same CA behind mutual TLS: only a client certificate it
		// issued gets through.
		mtls := httptest.NewUnstartedServer(e.ca)
		tlsConfig, err := e.ca.ServerTLSConfig(true, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		mtls.TLS = tlsConfig
		mtls.StartTLS()
		t.Cleanup(mtls.Close)

		run := newCLIRun(t, cli)
		for _, tc := range []struct {
			name          string
			revokeOnClose bool
		}{{"revoke_on_close", true}, {"left to expire", false}} {
			mark := e.mark()
			run.write(ephemeralConfig(e, mtls.URL+"/.well-known/cmp", tc.revokeOnClose))
			run.cli("plan", "-input=false", "-out=tfplan")
			run.cli("apply", "-input=false", "tfplan")
			planJSON := run.cli("show", "-json", "tfplan")

			issued := ephemeralIssued(t, e, mark)
			if len(issued) == 0 {
				t.Fatalf("%s: the CA issued no certificate: %v", tc.name, e.ops(mark))
			}
			state, err := os.ReadFile(filepath.Join(run.dir, "terraform.tfstate"))
			if err != nil {
				t.Fatal(err)
			}
			// The data source read through mutual TLS: the ephemeral
			// certificate configured the second provider.
			if !strings.Contains(string(state), "cmpv2_ca_certificates") || !strings.Contains(string(state), strings.Split(strings.TrimSpace(e.caPEM), "\n")[1]) {
				t.Errorf("%s: the state holds no CA certificates read through mutual TLS", tc.name)
			}
			plan := planContents(t, filepath.Join(run.dir, "tfplan"))
			// The search finds a certificate as PEM and as a JSON string.
			pemJSON, _ := json.Marshal(certificatePEM(issued[0]))
			for _, in := range [][]byte{[]byte(certificatePEM(issued[0])), pemJSON} {
				if !bytes.Contains(unbroken(in), []byte(certificateMaterial(issued[0])[0])) {
					t.Fatalf("the search does not find the certificate in %q", in)
				}
			}
			for what, content := range map[string][]byte{"state file": state, "plan show -json": []byte(planJSON), "plan file": plan} {
				if strings.Contains(string(content), "PRIVATE KEY") {
					t.Errorf("%s: the %s holds a private key", tc.name, what)
				}
				content = unbroken(content)
				for _, c := range issued {
					for i, material := range certificateMaterial(c) {
						if bytes.Contains(content, []byte(material)) {
							t.Errorf("%s: the %s holds certificate serial %s (material %d)", tc.name, what, c.SerialNumber, i)
						}
					}
				}
			}

			// Every open is an IR with its certConf; with revoke_on_close
			// every close an RR of that certificate, without, none.
			counts := map[string]int{}
			for _, op := range e.ops(mark) {
				counts[op]++
			}
			wantRR := 0
			if tc.revokeOnClose {
				wantRR = len(issued)
			}
			if counts["ir:accepted"] != len(issued) || counts["certConf:confirmed"] != len(issued) || counts["rr:accepted"] != wantRR {
				t.Errorf("%s: the CA saw %v; want %d ir and certConf, %d rr", tc.name, e.ops(mark), len(issued), wantRR)
			}
			for _, c := range issued {
				if _, revoked, _ := e.ca.Certificate(c.SerialNumber.String()); revoked != tc.revokeOnClose {
					t.Errorf("%s: certificate %s revoked = %v", tc.name, c.SerialNumber, revoked)
				}
				if c.NotAfter.Sub(c.NotBefore) > defaultEphemeralValidityHours*3600e9+2*60e9 {
					t.Errorf("%s: certificate valid from %s to %s, want about %d hour", tc.name, c.NotBefore, c.NotAfter, defaultEphemeralValidityHours)
				}
			}
		}
	})
}

// ephemeralConfig: an ephemeral client certificate from the CA at e, and
// a provider configuration that reaches the CA at mtlsURL with it.
func ephemeralConfig(e *caEnv, mtlsURL string, revokeOnClose bool) string {
	return e.providerBlock(true) + fmt.Sprintf(`
ephemeral "cmpv2_certificate" "client" {
  subject             = { common_name = "terraform-run" }
  extended_key_usages = ["client_auth"]
  revoke_on_close     = %t
}

provider "cmpv2" {
  alias     = "mtls"
  url       = %q
  reference = %q
  secret    = %q
  trusted_ca_pem = <<EOT
%sEOT
  tls = {
    ca_pem                 = <<EOT
%sEOT
    client_certificate_pem = ephemeral.cmpv2_certificate.client.certificate_pem
    client_private_key_pem = ephemeral.cmpv2_certificate.client.private_key_pem
  }
}

data "cmpv2_ca_certificates" "via_mtls" {
  provider = cmpv2.mtls
}
`, revokeOnClose, mtlsURL, e.reference, e.secret, e.caPEM, e.caPEM)
}

// ephemeralIssued returns the certificates the CA issued by IR since mark.
func ephemeralIssued(t *testing.T, e *caEnv, mark int) []*x509.Certificate {
	t.Helper()
	e.mu.Lock()
	events := slices.Clone(e.events[mark:])
	e.mu.Unlock()
	var out []*x509.Certificate
	for _, ev := range events {
		if ev.Op == "ir" && ev.Serial != "" {
			c, _, ok := e.ca.Certificate(ev.Serial)
			if !ok {
				t.Fatalf("serial %s is not a certificate of the CA", ev.Serial)
			}
			out = append(out, c)
		}
	}
	return out
}

// certificateMaterial is what would betray c in a file, searched for in
// content with its line breaks (and JSON's escaped ones) taken out: its
// DER and its public key in base64 (PEM, JSON), its DER as is, and its
// serial number in decimal and hex.
func certificateMaterial(c *x509.Certificate) []string {
	return []string{base64.StdEncoding.EncodeToString(c.Raw), base64.StdEncoding.EncodeToString(c.RawSubjectPublicKeyInfo),
		string(c.Raw), c.SerialNumber.String(), fmt.Sprintf("%x", c.SerialNumber)}
}

// unbroken is content without line breaks, plain or JSON-escaped.
func unbroken(content []byte) []byte {
	return []byte(strings.NewReplacer("\\n", "", "\n", "", "\r", "").Replace(string(content)))
}

// planContents is the plan file as it is and every entry of the archive
// uncompressed.
func planContents(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("plan file: %v", err)
	}
	out := slices.Clone(raw)
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatalf("plan file entry %s: %v", f.Name, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("plan file entry %s: %v", f.Name, err)
		}
		out = append(out, b...)
	}
	return out
}

// cliRun is a working directory in which the Terraform-compatible CLI at
// path runs against this provider, served in process (reattached).
type cliRun struct {
	t         *testing.T
	path, dir string
	env       []string
	inited    bool
}

// newCLIRun serves the provider in process for the CLI at cli.
func newCLIRun(t *testing.T, cli string) *cliRun {
	t.Helper()
	host := "registry.terraform.io"
	if out, _ := exec.Command(cli, "version").Output(); strings.HasPrefix(string(out), "OpenTofu") {
		host = "registry.opentofu.org"
	}
	ctx, cancel := context.WithCancel(context.Background())
	configs, closed := make(chan *plugin.ReattachConfig, 1), make(chan struct{})
	addr := host + "/hashicorp/cmpv2"
	go func() {
		err := tf6server.Serve(addr, func() tfprotov6.ProviderServer {
			return providerserver.NewProtocol6(newProvider("test", clock{})())()
		}, tf6server.WithDebug(ctx, configs, closed), tf6server.WithGoPluginLogger(hclog.NewNullLogger()), tf6server.WithLoggingSink(t),
			tf6server.WithoutLogStderrOverride())
		if err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	rc := <-configs
	t.Cleanup(func() { cancel(); <-closed })
	reattach, err := json.Marshal(map[string]any{addr: map[string]any{
		"Protocol": "grpc", "ProtocolVersion": 6, "Pid": rc.Pid, "Test": true,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &cliRun{t: t, path: cli, dir: t.TempDir(),
		env: append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(reattach), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")}
}

// write replaces the configuration.
func (r *cliRun) write(config string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, "main.tf"), []byte(config), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// cli runs the CLI with args (after init, once) and returns its stdout;
// a failure ends the test.
func (r *cliRun) cli(args ...string) string {
	r.t.Helper()
	stdout, stderr, err := r.run(args...)
	if err != nil {
		r.t.Fatalf("%s %s: %v\n%s\n%s", filepath.Base(r.path), args[0], err, stdout, stderr)
	}
	return stdout
}

// fails runs the CLI with args, which must fail, and returns all it
// printed, stdout then stderr.
func (r *cliRun) fails(args ...string) string {
	r.t.Helper()
	stdout, stderr, err := r.run(args...)
	if err == nil {
		r.t.Fatalf("%s %s succeeded, want an error", filepath.Base(r.path), args[0])
	}
	return stdout + stderr
}

// run runs the CLI with args in the working directory, after init (once).
func (r *cliRun) run(args ...string) (stdout, stderr string, err error) {
	r.t.Helper()
	if !r.inited {
		r.inited = true
		r.cli("init", "-input=false")
	}
	cmd := exec.Command(r.path, append([]string{args[0], "-no-color"}, args[1:]...)...)
	cmd.Dir, cmd.Env = r.dir, r.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// TestAccEphemeralCertificateOpen: without configured trust anchors the RR
// of close is verified with the anchor the IR adopted; an open that cannot
// enroll fails the plan, and nothing reaches the CA.
func TestAccEphemeralCertificateOpen(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	tests := []struct {
		name, config string
		want         string // error; "" for none
	}{
		{
			name: "adopted anchor verifies the RR",
			config: hclConfig{url: e.url, reference: e.reference, secret: e.secret}.provider() + `
ephemeral "cmpv2_certificate" "test" {
  subject         = { common_name = "adopted.example" }
  revoke_on_close = true
}`,
		},
		{
			name: "no IR credentials",
			config: e.providerBlock(false) + `
ephemeral "cmpv2_certificate" "test" {
  subject = { common_name = "nocreds.example" }
}`,
			want: `(?s)No credentials for the initialization request`,
		},
		{
			name: "own credentials, wrong secret",
			config: e.providerBlock(false) + fmt.Sprintf(`
ephemeral "cmpv2_certificate" "test" {
  subject    = { common_name = "wrong.example" }
  enrollment = { reference = %q, secret = "not the secret" }
}`, e.reference),
			want: `(?s)initialization request \(IR\) failed`,
		},
		{
			name: "conflicting credentials",
			config: e.providerBlock(true) + fmt.Sprintf(`
ephemeral "cmpv2_certificate" "test" {
  subject    = { common_name = "conflict.example" }
  enrollment = { reference = %q, secret = %q, certificate_pem = "x", private_key_pem = "y" }
}`, e.reference, e.secret),
			want: `(?s)Conflicting enrollment credentials`,
		},
		{
			name: "nothing to certify",
			config: e.providerBlock(true) + `
ephemeral "cmpv2_certificate" "test" {
  extended_key_usages = ["client_auth"]
}`,
			want: `(?s)Nothing to certify`,
		},
		{
			name: "rsa_bits for an ECDSA key",
			config: e.providerBlock(true) + `
ephemeral "cmpv2_certificate" "test" {
  subject  = { common_name = "rsa.example" }
  rsa_bits = 4096
}`,
			want: `(?s)rsa_bits`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mark := e.mark()
			step := resource.TestStep{Config: tc.config}
			if tc.want != "" {
				step.ExpectError = regexp.MustCompile(tc.want)
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps:                    []resource.TestStep{step},
			})
			issued := ephemeralIssued(t, e, mark)
			if tc.want != "" && len(issued) > 0 {
				t.Errorf("the CA issued %d certificates: %v", len(issued), e.ops(mark))
			}
			if tc.want == "" && len(issued) == 0 {
				t.Errorf("the CA issued nothing: %v", e.ops(mark))
			}
			for _, c := range issued {
				if _, revoked, _ := e.ca.Certificate(c.SerialNumber.String()); !revoked {
					t.Errorf("certificate %s was not revoked on close: the CA saw %v", c.SerialNumber, e.ops(mark))
				}
			}
		})
	}
}

// TestAccEphemeralCertificateUnconfirmed: a certificate issued whose
// certConf the CA refuses is held by nobody after the failed open, so the
// open revokes it before it fails.
func TestAccEphemeralCertificateUnconfirmed(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{Faults: []devca.Fault{devca.FaultCertConfError}})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: e.providerBlock(true) + `
ephemeral "cmpv2_certificate" "test" {
  subject = { common_name = "unconfirmed.example" }
}`,
			ExpectError: regexp.MustCompile(`(?s)certificate issued but the IR did not complete`),
		}},
	})
	issued := ephemeralIssued(t, e, 0)
	if len(issued) != 1 {
		t.Fatalf("the CA issued %d certificates, want 1: %v", len(issued), e.ops(0))
	}
	if _, revoked, _ := e.ca.Certificate(issued[0].SerialNumber.String()); !revoked {
		t.Errorf("the unconfirmed certificate was not revoked: the CA saw %v", e.ops(0))
	}
	if !slices.Contains(e.ops(0), "rr:accepted") {
		t.Errorf("the CA saw %v, want an rr", e.ops(0))
	}
}
