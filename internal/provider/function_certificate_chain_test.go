package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestCertificateChainFunction(t *testing.T) {
	root := testpki.Root(t, "Chain Root")
	inter := testpki.Intermediate(t, "Chain Issuing CA", root)
	leaf := testpki.Leaf(t, inter, testpki.LeafOptions{CommonName: "web.example"})
	direct := testpki.Leaf(t, root, testpki.LeafOptions{CommonName: "direct.example"})
	leafPEM, interPEM, rootPEM := string(leaf.CertPEM()), string(inter.CertPEM()), string(root.CertPEM())
	for _, tc := range []struct {
		name, cert, chain string
		want              string
		wantArg           int64 // the argument an error names; -1: no error
		wantErr           string
	}{
		{name: "intermediate and root: the root is left out", cert: leafPEM, chain: interPEM + rootPEM,
			want: leafPEM + interPEM, wantArg: -1},
		{name: "chain ends with an intermediate: kept whole", cert: leafPEM, chain: interPEM,
			want: leafPEM + interPEM, wantArg: -1},
		{name: "issued by the root: the certificate alone", cert: string(direct.CertPEM()), chain: rootPEM,
			want: string(direct.CertPEM()), wantArg: -1},
		{name: "empty chain: the certificate alone", cert: leafPEM, chain: "", want: leafPEM, wantArg: -1},
		{name: "caPubs as sent, which did not issue it: the certificate alone", cert: leafPEM,
			chain: string(testpki.Root(t, "Unrelated Root").CertPEM()), want: leafPEM, wantArg: -1},
		{name: "an intermediate, then an unrelated CA: the intermediate only", cert: leafPEM,
			chain: interPEM + string(testpki.Intermediate(t, "Unrelated CA", root).CertPEM()), want: leafPEM + interPEM, wantArg: -1},
		{name: "the root before the intermediate: nothing follows issuers", cert: leafPEM, chain: rootPEM + interPEM,
			want: leafPEM, wantArg: -1},
		{name: "two certificates where one belongs", cert: leafPEM + interPEM, chain: rootPEM, wantArg: 0,
			wantErr: "want one certificate"},
		{name: "a key as the certificate", cert: string(leaf.KeyPEM()), chain: rootPEM, wantArg: 0, wantErr: "certificate_pem"},
		{name: "a key in the chain", cert: leafPEM, chain: rootPEM + string(leaf.KeyPEM()), wantArg: 1, wantErr: "ca_chain_pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := function.RunRequest{Arguments: function.NewArgumentsData([]attr.Value{
				types.StringValue(tc.cert), types.StringValue(tc.chain)})}
			resp := function.RunResponse{Result: function.NewResultData(types.StringUnknown())}
			certificateChainFunction{}.Run(context.Background(), req, &resp)
			if tc.wantArg >= 0 {
				if resp.Error == nil || resp.Error.FunctionArgument == nil || *resp.Error.FunctionArgument != tc.wantArg ||
					!strings.Contains(resp.Error.Text, tc.wantErr) {
					t.Fatalf("error = %v, want one about argument %d containing %q", resp.Error, tc.wantArg, tc.wantErr)
				}
				if strings.Contains(resp.Error.Text, "PRIVATE KEY-----") {
					t.Fatalf("the error repeats the argument: %s", resp.Error.Text)
				}
				return
			}
			if resp.Error != nil {
				t.Fatalf("error: %s", resp.Error.Text)
			}
			if got := resp.Result.Value().(types.String).ValueString(); got != tc.want {
				t.Errorf("chain:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
