package provider

import (
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestSubjectName(t *testing.T) {
	null := types.StringNull()
	cases := []struct {
		name string
		in   subjectModel
		want string // pkix.Name.String(), RFC 4514 order
	}{
		{
			name: "common name only",
			in:   subjectModel{types.StringValue("device-17"), null, null, null, null, null, null, null, null},
			want: "CN=device-17",
		},
		{
			name: "every attribute",
			in: subjectModel{types.StringValue("web.example"), types.StringValue("Example Ltd"),
				types.StringValue("Ops"), types.StringValue("FI"), types.StringValue("Uusimaa"),
				types.StringValue("Helsinki"), types.StringValue("Main St 1"), types.StringValue("00100"),
				types.StringValue("SN-42")},
			want: "SERIALNUMBER=SN-42,CN=web.example,OU=Ops,O=Example Ltd,POSTALCODE=00100,STREET=Main St 1,L=Helsinki,ST=Uusimaa,C=FI",
		},
		{
			name: "empty strings are left out",
			in: subjectModel{types.StringValue("x"), types.StringValue(""), null, types.StringValue(""),
				null, null, null, null, types.StringValue("")},
			want: "CN=x",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.in.name()
			if got := n.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			// The DER crypto/x509 will write must round-trip to the same name.
			var back pkix.Name
			back.FillFromRDNSequence(ptr(n.ToRDNSequence()))
			if back.String() != tc.want {
				t.Errorf("round trip: got %q, want %q", back.String(), tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestParseDistinguishedName(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    string // pkix.Name of the result, printed RFC 4514 style
		wantErr string
	}{
		{name: "simple", in: "CN=CMP CA,O=Example,C=DE", want: "CN=CMP CA,O=Example,C=DE"},
		{name: "spaces around separators", in: " CN = CMP CA , O = Example ", want: "CN=CMP CA,O=Example"},
		{name: "lower-case types", in: "cn=ca,ou=pki", want: "CN=ca,OU=pki"},
		{name: "escaped comma", in: `CN=Doe\, John,O=Example`, want: `CN=Doe\, John,O=Example`},
		{name: "hex escape", in: `CN=caf\C3\A9`, want: "CN=café"},
		{name: "escaped plus", in: `CN=a\+b`, want: `CN=a\+b`},
		{name: "every known type", in: "SERIALNUMBER=1,CN=a,OU=b,O=c,POSTALCODE=d,STREET=e,L=f,ST=g,C=FI",
			want: "SERIALNUMBER=1,CN=a,OU=b,O=c,POSTALCODE=d,STREET=e,L=f,ST=g,C=FI"},
		{name: "domain component unsupported", in: "CN=ca,DC=example", wantErr: `unknown attribute type "DC"`},
		{name: "empty", in: "  ", wantErr: "empty distinguished name"},
		{name: "no equals", in: "CN=ca,Example", wantErr: `RDN 2 "Example": want TYPE=value`},
		{name: "unknown type", in: "XX=1", wantErr: `unknown attribute type "XX"`},
		{name: "empty value", in: "CN=", wantErr: "empty value"},
		{name: "multi-valued RDN", in: "CN=a+O=b", wantErr: "multi-valued RDNs are not supported"},
		{name: "bad escape", in: `CN=a\q`, wantErr: `invalid escape \q`},
		{name: "trailing backslash", in: `CN=a\`, wantErr: "lone backslash"},
		{name: "escaped control character", in: `C=\09`, wantErr: "not printable UTF-8"},
		{name: "escape making invalid UTF-8", in: `CN=\C3`, wantErr: "not printable UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seq, err := parseDistinguishedName(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := seq.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzParseDistinguishedName: any input either parses into a name that
// prints and re-parses to the same sequence, or is an error; never a panic.
func FuzzParseDistinguishedName(f *testing.F) {
	for _, s := range []string{"CN=CMP CA,O=Example,C=DE", `CN=Doe\, John`, `CN=caf\C3\A9`, "cn=a,ou=b", `CN=a\`, "=", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seq, err := parseDistinguishedName(s)
		if err != nil {
			return
		}
		if len(seq) == 0 {
			t.Fatalf("%q parsed to an empty name", s)
		}
		again, err := parseDistinguishedName(seq.String())
		if err != nil {
			t.Fatalf("%q parsed, but its printed form %q does not: %v", s, seq.String(), err)
		}
		if again.String() != seq.String() {
			t.Fatalf("%q: printed form %q re-parses as %q", s, seq.String(), again.String())
		}
	})
}
