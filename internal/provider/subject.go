package provider

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// subjectModel is the `subject` object of cmpv2_certificate. Each attribute
// holds one value, as terraform-provider-tls's subject does.
type subjectModel struct {
	CommonName         types.String `tfsdk:"common_name"`
	Organization       types.String `tfsdk:"organization"`
	OrganizationalUnit types.String `tfsdk:"organizational_unit"`
	Country            types.String `tfsdk:"country"`
	Province           types.String `tfsdk:"province"`
	Locality           types.String `tfsdk:"locality"`
	StreetAddress      types.String `tfsdk:"street_address"`
	PostalCode         types.String `tfsdk:"postal_code"`
	SerialNumber       types.String `tfsdk:"serial_number"`
}

// subjectAttrTypes is the subject object's type, derived from the schema.
var subjectAttrTypes = schema.SingleNestedAttribute{Attributes: subjectAttributes()}.GetType().(types.ObjectType).AttrTypes

// subjectAttributes are the attributes of cmpv2_certificate's subject.
func subjectAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"common_name":         schema.StringAttribute{Description: "Common name (CN).", Optional: true},
		"organization":        schema.StringAttribute{Description: "Organization (O).", Optional: true},
		"organizational_unit": schema.StringAttribute{Description: "Organizational unit (OU).", Optional: true},
		"country": schema.StringAttribute{
			Description: "Two-letter ISO 3166 country code (C).",
			Optional:    true,
			Validators:  []validator.String{countryValidator()},
		},
		"province":       schema.StringAttribute{Description: "State or province (ST).", Optional: true},
		"locality":       schema.StringAttribute{Description: "Locality (L).", Optional: true},
		"street_address": schema.StringAttribute{Description: "Street address (STREET).", Optional: true},
		"postal_code":    schema.StringAttribute{Description: "Postal code (POSTALCODE).", Optional: true},
		"serial_number":  schema.StringAttribute{Description: "Subject serial number (SERIALNUMBER).", Optional: true},
	}
}

// name builds the subject to request. Unset and empty attributes are left
// out; crypto/x509 writes the RDNs in its fixed order (C, ST, L, STREET,
// POSTALCODE, O, OU, CN, SERIALNUMBER), the order OpenSSL's -subject
// examples use as well.
func (m subjectModel) name() pkix.Name {
	one := func(v types.String) []string {
		if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
			return nil
		}
		return []string{v.ValueString()}
	}
	return pkix.Name{
		CommonName:         m.CommonName.ValueString(),
		Organization:       one(m.Organization),
		OrganizationalUnit: one(m.OrganizationalUnit),
		Country:            one(m.Country),
		Province:           one(m.Province),
		Locality:           one(m.Locality),
		StreetAddress:      one(m.StreetAddress),
		PostalCode:         one(m.PostalCode),
		SerialNumber:       m.SerialNumber.ValueString(),
	}
}

// dnAttributeTypes are the attribute type names parseDistinguishedName
// accepts: those crypto/x509/pkix prints by name, so that a parsed name
// prints back in the same form.
var dnAttributeTypes = map[string]asn1.ObjectIdentifier{
	"CN":           {2, 5, 4, 3},
	"SERIALNUMBER": {2, 5, 4, 5},
	"C":            {2, 5, 4, 6},
	"L":            {2, 5, 4, 7},
	"ST":           {2, 5, 4, 8},
	"STREET":       {2, 5, 4, 9},
	"O":            {2, 5, 4, 10},
	"OU":           {2, 5, 4, 11},
	"POSTALCODE":   {2, 5, 4, 17},
}

// parseDistinguishedName parses an RFC 4514 string such as
// "CN=CMP CA,O=Example,C=DE" into an RDNSequence. RFC 4514 section 2.1
// writes the last RDN first, so the result is in reverse order of the text.
// Multi-valued RDNs ("+") are not supported.
func parseDistinguishedName(s string) (pkix.RDNSequence, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty distinguished name")
	}
	parts, err := splitUnescaped(s, ',')
	if err != nil {
		return nil, err
	}
	seq := make(pkix.RDNSequence, 0, len(parts))
	for i, part := range parts {
		typ, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("RDN %d %q: want TYPE=value", i+1, part)
		}
		typ = strings.ToUpper(strings.TrimSpace(typ))
		oid, known := dnAttributeTypes[typ]
		if !known {
			return nil, fmt.Errorf("RDN %d: unknown attribute type %q (known: CN, O, OU, C, ST, L, STREET, POSTALCODE, SERIALNUMBER)", i+1, typ)
		}
		v, err := unescapeDNValue(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("RDN %d (%s): %w", i+1, typ, err)
		}
		if v == "" {
			return nil, fmt.Errorf("RDN %d (%s): empty value", i+1, typ)
		}
		if !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return nil, fmt.Errorf("RDN %d (%s): value is not printable UTF-8", i+1, typ)
		}
		if strings.Contains(v, "+") && !strings.Contains(value, `\+`) {
			return nil, fmt.Errorf("RDN %d (%s): multi-valued RDNs are not supported; escape a literal + as \\+", i+1, typ)
		}
		seq = append(seq, pkix.RelativeDistinguishedNameSET{{Type: oid, Value: v}})
	}
	for i, j := 0, len(seq)-1; i < j; i, j = i+1, j-1 {
		seq[i], seq[j] = seq[j], seq[i]
	}
	return seq, nil
}

// splitUnescaped splits s at every sep not preceded by a backslash escape.
func splitUnescaped(s string, sep byte) ([]string, error) {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
			if i == len(s) {
				return nil, errors.New("distinguished name ends with a lone backslash")
			}
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:]), nil
}

// unescapeDNValue removes RFC 4514 section 2.4 escapes: a backslash before
// a special character, or before two hex digits.
func unescapeDNValue(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i == len(s) {
			return "", errors.New("value ends with a lone backslash")
		}
		if isHex(s[i]) && i+1 < len(s) && isHex(s[i+1]) {
			c, _ := strconv.ParseUint(s[i:i+2], 16, 8) // both digits checked by isHex
			b.WriteByte(byte(c))
			i++
			continue
		}
		if !strings.ContainsRune(`,+"\<>;= #`, rune(s[i])) {
			return "", fmt.Errorf("invalid escape \\%c", s[i])
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
