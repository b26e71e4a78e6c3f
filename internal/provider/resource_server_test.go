package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestServerCredentials: cmpv2_server's credentials go through the one
// credentials rule, with every error and origin naming credentials.*.
func TestServerCredentials(t *testing.T) {
	_, certPEM, keyPEM := testExternalCredential(t)
	_, _, otherKeyPEM := testExternalCredential(t)
	null, str := types.StringNull(), types.StringValue
	obj := credentialsObject
	const genm = "A genm is sent."
	p := path.Root("credentials")
	cases := []struct {
		name       string
		creds      types.Object
		defaults   *Defaults
		needs      string
		wantErr    string // summary of the one error; "" for none
		wantPath   path.Path
		wantDetail string // part of the error's detail
		wantFrom   string // part of where the credentials came from
	}{
		{name: "reference and secret_wo", creds: obj(str("r"), null, str("s"), null, null), needs: genm,
			wantFrom: `credentials.secret_wo (reference "r")`},
		{name: "certificate and key", creds: obj(null, null, null, str(certPEM), str(keyPEM)), needs: genm,
			wantFrom: "credentials.certificate_pem with credentials.private_key_pem"},
		{name: "secret_wo without any reference", creds: obj(null, null, str("s"), null, null), defaults: &Defaults{},
			wantErr: "Missing credentials reference", wantPath: p.AtName("reference"), wantDetail: "credentials.reference"},
		{name: "reference without its secret", creds: obj(str("r"), null, null, null, null), needs: genm,
			wantErr: "Missing credentials secret", wantPath: p.AtName("secret_wo"),
			wantDetail: "credentials.secret_wo or credentials.secret"},
		{name: "nothing anywhere", creds: types.ObjectNull(enrollmentAttrTypes), defaults: &Defaults{}, needs: genm,
			wantErr: "No credentials for the general messages", wantPath: p,
			wantDetail: "credentials.reference with credentials.secret or credentials.secret_wo"},
		{name: "key of another certificate", creds: obj(null, null, null, str(certPEM), str(otherKeyPEM)),
			wantErr: "Credentials key does not match the certificate", wantPath: p.AtName("private_key_pem"),
			wantDetail: "credentials.private_key_pem"},
		{name: "both kinds", creds: obj(str("r"), str("s"), null, str(certPEM), str(keyPEM)),
			wantErr: "Conflicting credentials", wantPath: p.AtName("certificate_pem")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			creds, from, diags := messageCredentials(context.Background(), p, tc.creds, tc.defaults, tc.needs,
				"No credentials for the general messages")
			if tc.wantErr == "" {
				if diags.HasError() || creds == nil || !strings.Contains(from, tc.wantFrom) {
					t.Fatalf("credentials %v from %q (%v), want some from %q", creds, from, diags, tc.wantFrom)
				}
				if _, ok := creds.(cmpclient.SignatureCredentials); ok != strings.Contains(tc.wantFrom, "certificate_pem") {
					t.Errorf("credentials %T for %q", creds, from)
				}
				return
			}
			errs := diags.Errors()
			if len(errs) != 1 || errs[0].Summary() != tc.wantErr || !strings.Contains(errs[0].Detail(), tc.wantDetail) {
				t.Fatalf("errors %v, want one %q naming %q", diags, tc.wantErr, tc.wantDetail)
			}
			if at, ok := errs[0].(interface{ Path() path.Path }); !ok || !at.Path().Equal(tc.wantPath) {
				t.Errorf("error attached to %v, want %v", errs[0], tc.wantPath)
			}
		})
	}
}

// TestGenmRefused: which failures of a genm mean the server answers no
// general messages (a warning) and which stay errors.
func TestGenmRefused(t *testing.T) {
	cmpErr := func(fail cmp.FailureInfo) error {
		return fmt.Errorf("genm: %w", &cmpclient.Error{Op: "genm", Body: "error", FailInfo: fail})
	}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"error message badRequest", cmpErr(cmp.FailBadRequest), true},
		{"error message badDataFormat", cmpErr(cmp.FailBadDataFormat), true},
		{"error message without failInfo", cmpErr(0), true},
		{"HTTP 501", &cmpclient.Error{Op: "genm", HTTPStatus: http.StatusNotImplemented}, true},
		{"HTTP 404", &cmpclient.Error{Op: "genm", HTTPStatus: http.StatusNotFound}, true},
		{"HTTP 400", &cmpclient.Error{Op: "genm", HTTPStatus: http.StatusBadRequest}, true},
		{"wrong secret", cmpErr(cmp.FailBadMessageCheck), false},
		{"badRequest and badMessageCheck", cmpErr(cmp.FailBadRequest | cmp.FailBadMessageCheck), false},
		{"HTTP 401", &cmpclient.Error{Op: "genm", HTTPStatus: http.StatusUnauthorized}, false},
		{"HTTP 403", &cmpclient.Error{Op: "genm", HTTPStatus: http.StatusForbidden}, false},
		{"HTTP 500", &cmpclient.Error{Op: "genm", HTTPStatus: http.StatusInternalServerError}, false},
		{"not a CMP error", errors.New("connection refused"), false},
		{"nil", nil, false},
	}
	for _, tc := range cases {
		if got := genmRefused(tc.err); got != tc.want {
			t.Errorf("%s: genmRefused = %v, want %v", tc.name, got, tc.want)
		}
	}
}
