package devca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strconv"
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// RequestTemplate is the certificate request template the CA answers to
// genm certReqTemplate (RFC 9483 section 4.3.3, RFC 9810 5.3.19.16) in
// place of its default. Subject holds the subject attributes the CA wants
// requested, with their values; Keys the key types it asks for, most
// preferred first: ec-p256, ec-p384, ec-p521, ed25519, rsa-2048, rsa-3072,
// rsa-4096. A template is advice: the CA still issues what it accepts.
type RequestTemplate struct {
	Subject pkix.Name
	Keys    []string
}

// ParseRequestTemplate reads -template: "keys=ec-p384 rsa-3072;
// subject=O=Example Org,C=DE" (either part may be left out; subject
// attributes are CN, O, OU, C, ST, L, one value each).
func ParseRequestTemplate(spec string) (*RequestTemplate, error) {
	t := &RequestTemplate{}
	for _, part := range strings.Split(spec, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch name {
		case "":
		case "keys":
			for _, k := range strings.Fields(value) {
				if _, err := keyControl(k); err != nil {
					return nil, err
				}
				t.Keys = append(t.Keys, k)
			}
		case "subject":
			for _, rdn := range strings.Split(value, ",") {
				attr, v, ok := strings.Cut(strings.TrimSpace(rdn), "=")
				if !ok {
					return nil, fmt.Errorf("subject attribute %q: want TYPE=value", rdn)
				}
				field, known := map[string]*[]string{"O": &t.Subject.Organization, "OU": &t.Subject.OrganizationalUnit,
					"C": &t.Subject.Country, "ST": &t.Subject.Province, "L": &t.Subject.Locality}[attr]
				switch {
				case attr == "CN":
					t.Subject.CommonName = v
				case known:
					*field = append(*field, v)
				default:
					return nil, fmt.Errorf("subject attribute type %q: want CN, O, OU, C, ST or L", attr)
				}
			}
		default:
			return nil, fmt.Errorf("template part %q: want keys=... or subject=...", name)
		}
	}
	return t, nil
}

// keyControl is the keySpec control (RFC 9810 5.3.19.16) for a key type:
// id-regCtrl-algId with the algorithm (and curve), or id-regCtrl-rsaKeyLen.
func keyControl(key string) (cmp.AttributeTypeAndValue, error) {
	curves := map[string]asn1.ObjectIdentifier{"ec-p256": cmp.OIDCurveP256, "ec-p384": cmp.OIDCurveP384, "ec-p521": cmp.OIDCurveP521}
	if curve, ok := curves[key]; ok {
		param, err := asn1.Marshal(curve)
		if err != nil {
			return cmp.AttributeTypeAndValue{}, err
		}
		return cmp.AlgIDControl(pkix.AlgorithmIdentifier{Algorithm: cmp.OIDECPublicKey, Parameters: asn1.RawValue{FullBytes: param}})
	}
	if key == "ed25519" {
		return cmp.AlgIDControl(pkix.AlgorithmIdentifier{Algorithm: cmp.OIDEd25519})
	}
	if bits, err := strconv.Atoi(strings.TrimPrefix(key, "rsa-")); err == nil && strings.HasPrefix(key, "rsa-") && bits >= 2048 && bits <= 8192 {
		return cmp.RSAKeyLenControl(bits)
	}
	return cmp.AttributeTypeAndValue{}, fmt.Errorf("key type %q: want ec-p256, ec-p384, ec-p521, ed25519 or rsa-BITS (2048 to 8192)", key)
}

// certReqTemplate is the CertReqTemplateValue this CA answers: the
// configured RequestTemplate, else the default, which names every key type
// issue accepts.
func (ca *CA) certReqTemplate() ([]byte, error) {
	t := ca.cfg.RequestTemplate
	if t == nil {
		return defaultCertReqTemplate()
	}
	subject, err := asn1.Marshal(t.Subject.ToRDNSequence())
	if err != nil {
		return nil, err
	}
	tmpl := cmp.CertReqTemplate{Template: cmp.CertTemplate{Subject: subject}}
	for _, k := range t.Keys {
		ctrl, err := keyControl(k)
		if err != nil {
			return nil, err
		}
		tmpl.KeySpec = append(tmpl.KeySpec, ctrl)
	}
	return tmpl.Marshal()
}
