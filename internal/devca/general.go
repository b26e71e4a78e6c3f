package devca

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// general answers a genm with a genp (RFC 9483 section 4.3): caCerts,
// rootCaCert (answered with rootCaKeyUpdate), certReqTemplate and
// signKeyPairTypes. Other
// info types are left out of the answer (RFC 9810 5.3.19: the receiver
// may ignore what it does not understand); an empty genm gets all three.
func (ca *CA) general(msg *cmp.Message, who *requester, ev Event, now time.Time) ([]byte, Event) {
	mac := who.macAlgFor()
	tx, ref := ca.txs.open(msg.Header.TransactionID, now)
	if ref != nil {
		return ca.errorAnswer(msg, nil, mac, ref), refusalEvent(ev, ref)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.op, tx.closed = cmp.BodyGenM, true

	asked := msg.Body.GenMsg
	if len(asked) == 0 {
		asked = []cmp.InfoTypeAndValue{{Type: cmp.OIDCACerts}, {Type: cmp.OIDRootCACert}, {Type: cmp.OIDCertReqTemplate}}
	}
	var out []cmp.InfoTypeAndValue
	for _, itav := range asked {
		ev.InfoTypes = append(ev.InfoTypes, itav.Type.String())
		switch {
		case itav.Type.Equal(cmp.OIDCACerts):
			// RFC 9483 4.3.1: the CA certificates the client may need.
			v, err := cmp.CACertsValue(ca.st.chainDER())
			if err != nil {
				ref := refuse(cmp.FailSystemFailure, "could not encode caCerts")
				return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
			}
			out = append(out, cmp.InfoTypeAndValue{Type: cmp.OIDCACerts, Value: v})
		case itav.Type.Equal(cmp.OIDRootCACert):
			var oldRoot []byte
			if itav.Value != nil {
				var err error
				if oldRoot, err = cmp.ParseRootCACertValue(itav.Value); err != nil {
					ref := refuse(cmp.FailBadDataFormat, "rootCaCert: %v", err)
					return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
				}
			}
			// RFC 9483 4.3.2: without an update (or when the client asks
			// about a root that is not this CA's) rootCaKeyUpdate has no
			// value.
			update := cmp.InfoTypeAndValue{Type: cmp.OIDRootCAKeyUpdate}
			if ca.rootUpdate != nil && (oldRoot == nil || bytes.Equal(oldRoot, ca.st.caCert.Raw)) {
				update.Value = ca.rootUpdate
			}
			out = append(out, update)
		case itav.Type.Equal(cmp.OIDSignKeyPairTypes):
			// RFC 9810 5.3.19.2: the signature algorithms whose keys this CA
			// certifies (and accepts for POP).
			v, err := cmp.SignKeyPairTypesValue(signKeyPairTypes)
			if err != nil {
				ref := refuse(cmp.FailSystemFailure, "could not encode signKeyPairTypes")
				return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
			}
			out = append(out, cmp.InfoTypeAndValue{Type: cmp.OIDSignKeyPairTypes, Value: v})
		case itav.Type.Equal(cmp.OIDCertReqTemplate):
			// RFC 9483 4.3.3: the template of what this CA certifies.
			v, err := ca.certReqTemplate()
			if err != nil {
				ref := refuse(cmp.FailSystemFailure, "could not encode certReqTemplate")
				return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
			}
			out = append(out, cmp.InfoTypeAndValue{Type: cmp.OIDCertReqTemplate, Value: v})
		}
	}
	ev.Status = cmp.StatusAccepted.String()
	return ca.answer(msg, tx, mac, cmp.Body{Type: cmp.BodyGenP, GenMsg: out}, nil, nil), ev
}

// signKeyPairTypes are the POP signature algorithms this CA accepts, as
// RFC 9481 names them: ECDSA (no curve parameters, RFC 5758 3.2),
// RSA PKCS#1 v1.5 (NULL parameters, RFC 4055 5) and Ed25519.
var signKeyPairTypes = []pkix.AlgorithmIdentifier{
	{Algorithm: cmp.OIDECDSAWithSHA256},
	{Algorithm: cmp.OIDECDSAWithSHA384},
	{Algorithm: cmp.OIDECDSAWithSHA512},
	{Algorithm: cmp.OIDSHA256WithRSA, Parameters: asn1.NullRawValue},
	{Algorithm: cmp.OIDSHA384WithRSA, Parameters: asn1.NullRawValue},
	{Algorithm: cmp.OIDSHA512WithRSA, Parameters: asn1.NullRawValue},
	{Algorithm: cmp.OIDEd25519},
}

// defaultCertReqTemplate is the CertReqTemplateValue this CA answers
// without Config.RequestTemplate (RFC 9483 4.3.3, RFC 9810 5.3.19.16): a
// certTemplate whose subject holds a common
// name with an empty value (fill in your own; anything else a request
// names is accepted too) and no publicKey, which RFC 9810 forbids there;
// keySpec names each key type issue accepts, one control per algorithm or
// RSA modulus length.
func defaultCertReqTemplate() ([]byte, error) {
	subject, err := asn1.Marshal(pkix.RDNSequence{{{Type: oidCommonName, Value: asn1.RawValue{Tag: asn1.TagUTF8String}}}})
	if err != nil {
		return nil, err
	}
	tmpl := cmp.CertReqTemplate{Template: cmp.CertTemplate{Subject: subject}}
	for _, curve := range []asn1.ObjectIdentifier{cmp.OIDCurveP256, cmp.OIDCurveP384, cmp.OIDCurveP521} {
		param, err := asn1.Marshal(curve)
		if err != nil {
			return nil, err
		}
		ctrl, err := cmp.AlgIDControl(pkix.AlgorithmIdentifier{Algorithm: cmp.OIDECPublicKey, Parameters: asn1.RawValue{FullBytes: param}})
		if err != nil {
			return nil, err
		}
		tmpl.KeySpec = append(tmpl.KeySpec, ctrl)
	}
	ctrl, err := cmp.AlgIDControl(pkix.AlgorithmIdentifier{Algorithm: cmp.OIDEd25519})
	if err != nil {
		return nil, err
	}
	tmpl.KeySpec = append(tmpl.KeySpec, ctrl)
	// checkPublicKey takes 2048 to 8192 bits; these are the usual sizes.
	for _, bits := range []int{2048, 3072, 4096} {
		ctrl, err := cmp.RSAKeyLenControl(bits)
		if err != nil {
			return nil, err
		}
		tmpl.KeySpec = append(tmpl.KeySpec, ctrl)
	}
	return tmpl.Marshal()
}

// oidCommonName is id-at-commonName (X.520).
var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}
