package cmpclient

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

const (
	// maxPolls bounds the pollReq/pollRep rounds of one request.
	maxPolls = 1000
	// minPollInterval keeps a server that says checkAfter 0 from being
	// hammered.
	minPollInterval = 100 * time.Millisecond
)

// certRequest sends an ir, cr, kur or p10cr, polls while the CA says
// waiting, checks the issued certificate against want, and confirms it
// (certConf/pkiConf) unless implicit confirmation was granted.
func (t *transaction) certRequest(ctx context.Context, body cmp.Body, repType cmp.BodyType, want wantCert,
	generalInfo ...cmp.InfoTypeAndValue) (*Enrollment, error) {
	if t.c.ImplicitConfirm {
		generalInfo = append(generalInfo, cmp.ImplicitConfirmITAV())
	}
	resp, err := t.roundTripDelayed(ctx, request{body: body, generalInfo: generalInfo, expect: []cmp.BodyType{repType}})
	if err != nil {
		return nil, t.unverifiedCertResponse(ctx, resp, err, repType, want.p10)
	}
	var cr *cmp.CertResponse
	for polls := 0; ; polls++ {
		if cr, err = t.certResponse(resp, want.p10); err != nil {
			return nil, err
		}
		if cr.Status.Status != cmp.StatusWaiting {
			break
		}
		// RFC 9810 5.3.22: answer waiting with pollReq until the final response.
		if polls >= maxPolls {
			return nil, t.wrap(fmt.Errorf("still waiting after %d polls", polls))
		}
		if resp, err = t.poll(ctx, cr.CertReqID, []cmp.BodyType{repType}); err != nil {
			return nil, t.unverifiedCertResponse(ctx, resp, err, repType, want.p10)
		}
	}
	if s := cr.Status.Status; s != cmp.StatusAccepted && s != cmp.StatusGrantedWithMods {
		return nil, statusError(t, resp.Body.Type, cr.Status)
	}
	if cr.Certificate == nil {
		if cr.EncryptedCert != nil {
			return nil, t.protocolError(fmt.Errorf("%w: certificate is encrypted (encryptedCert), which this client does not request", ErrMalformedResponse))
		}
		return nil, t.protocolError(fmt.Errorf("%w: status %s without a certificate", ErrMalformedResponse, cr.Status.Status))
	}

	enr, err := t.enrollment(resp, cr)
	if err != nil {
		return nil, err
	}
	granted := t.c.ImplicitConfirm && resp.Header.ImplicitConfirm()
	adopt := !t.c.hasTrust() && cmp.IsMACProtected(resp.Header.ProtectionAlg)
	if reason := t.c.checkIssued(enr, want, adopt); reason != "" {
		rejected := &CertificateRejectedError{Op: t.op, TransactionID: t.id, Certificate: enr.Certificate, Reason: reason}
		if granted {
			rejected.ConfirmErr = errors.New("the CA granted implicit confirmation, so no certConf could tell it")
		} else {
			rejected.ConfirmErr = t.confirm(ctx, enr.Certificate, cr.CertReqID, &cmp.PKIStatusInfo{
				Status: cmp.StatusRejection, FailInfo: cmp.FailIncorrectData, HasFailInfo: true,
				StatusString: []string{reason},
			})
		}
		return nil, rejected
	}
	if granted {
		enr.ImplicitlyConfirmed = true
		return enr, nil
	}
	// From here on the certificate exists on the CA: every failure returns
	// it along with the error.
	if err := ctx.Err(); err != nil {
		return enr, &UnconfirmedError{Op: t.op, TransactionID: t.id, Certificate: enr.Certificate, Err: err}
	}
	if err := t.confirm(ctx, enr.Certificate, cr.CertReqID, nil); err != nil {
		return enr, &UnconfirmedError{Op: t.op, TransactionID: t.id, Certificate: enr.Certificate, Err: err}
	}
	return enr, nil
}

// unverifiedCertResponse turns err, the failure of an ip, cp or kup resp
// to verify, into an *UnverifiedResponseError saying what the answer
// claims. A certificate the CA claims to have issued is rejected with a
// certConf (RFC 9483 section 4.1: the end entity rejects a certificate it
// cannot accept), so that the CA revokes it instead of leaving it live.
// Other errors are returned as they are.
func (t *transaction) unverifiedCertResponse(ctx context.Context, resp *cmp.Message, err error, repType cmp.BodyType, p10 bool) error {
	if resp == nil || !unverifiable(err) || resp.Body.Type != repType {
		return err
	}
	cr, cerr := t.certResponse(resp, p10)
	if cerr != nil {
		return err
	}
	u := &UnverifiedResponseError{Op: t.op, TransactionID: t.id, Body: resp.Body.Type.String(), Status: cr.Status, Err: err}
	if cr.Certificate == nil {
		return u
	}
	cert, perr := x509.ParseCertificate(cr.Certificate)
	if perr != nil {
		return u
	}
	u.Certificate, u.Serial = cert, cert.SerialNumber
	fail := cmp.FailBadMessageCheck
	if errors.Is(err, ErrUntrustedSigner) {
		fail = cmp.FailSignerNotTrusted
	}
	u.RejectErr = t.confirm(ctx, cert, cr.CertReqID, &cmp.PKIStatusInfo{
		Status: cmp.StatusRejection, FailInfo: fail, HasFailInfo: true,
		StatusString: []string{"the protection of the response could not be verified"},
	})
	// The CA answered the rejection: it took it, even when that answer
	// cannot be verified either.
	u.Rejected = u.RejectErr == nil || unverifiable(u.RejectErr)
	return u
}

// certResponse returns the one CertResponse of an ip/cp/kup, checking its
// certReqId: 0 for ir/cr/kur, -1 for p10cr (RFC 9810 section 5.3.4; 0 is
// accepted too, as OpenSSL 3.0 sends it).
func (t *transaction) certResponse(resp *cmp.Message, p10 bool) (*cmp.CertResponse, error) {
	rep := resp.Body.CertRep
	if rep == nil || len(rep.Response) != 1 {
		n := 0
		if rep != nil {
			n = len(rep.Response)
		}
		return nil, t.protocolError(fmt.Errorf("%w: %d CertResponses, want 1", ErrMalformedResponse, n))
	}
	cr := &rep.Response[0]
	if cr.CertReqID != 0 && !(p10 && cr.CertReqID == -1) {
		return nil, t.protocolError(fmt.Errorf("%w: got %d", ErrCertReqID, cr.CertReqID))
	}
	return cr, nil
}

// poll sends pollReq until the CA answers with one of the final body types
// (RFC 9810 section 5.3.22), waiting checkAfter seconds between rounds as
// long as ctx allows.
func (t *transaction) poll(ctx context.Context, certReqID int64, final []cmp.BodyType) (*cmp.Message, error) {
	expect := append([]cmp.BodyType{cmp.BodyPollRep}, final...)
	for round := 0; round < maxPolls; round++ {
		resp, err := t.roundTrip(ctx, request{
			body:   cmp.Body{Type: cmp.BodyPollReq, PollReq: []int64{certReqID}},
			expect: expect,
		})
		if err != nil {
			return resp, err // the caller reads what an unverifiable answer claims
		}
		if resp.Body.Type != cmp.BodyPollRep {
			return resp, nil
		}
		var entry *cmp.PollRepEntry
		for i := range resp.Body.PollRep {
			if resp.Body.PollRep[i].CertReqID == certReqID {
				entry = &resp.Body.PollRep[i]
			}
		}
		if entry == nil {
			return nil, t.protocolError(fmt.Errorf("%w: pollRep without certReqId %d", ErrCertReqID, certReqID))
		}
		wait := time.Duration(entry.CheckAfter) * time.Second
		if entry.CheckAfter > int64(maxRetryAfter/time.Second) {
			wait = maxRetryAfter + time.Second // past the cap: reported below
		}
		if wait < minPollInterval {
			wait = minPollInterval
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, t.wrap(fmt.Errorf("the CA is still processing and asks to poll again in %ds (%q), after the deadline: %w",
				entry.CheckAfter, entry.Reason, context.DeadlineExceeded))
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, t.wrap(fmt.Errorf("waiting to poll: %w", err))
		}
	}
	return nil, t.wrap(fmt.Errorf("still waiting after %d polls", maxPolls))
}

// roundTripDelayed is roundTrip for a transaction's first request: a
// server that cannot answer at once may send an error message with status
// waiting, and the answer is then polled for with certReqId -1 (RFC 9810
// section 5.3.22, RFC 9483 section 4.4). (For ir/cr/kur/p10cr the usual
// way is an ip/cp/kup with status waiting, handled in certRequest.)
func (t *transaction) roundTripDelayed(ctx context.Context, r request) (*cmp.Message, error) {
	resp, err := t.roundTrip(ctx, r)
	var e *Error
	if err != nil && errors.As(err, &e) && e.Body == cmp.BodyError.String() && e.Status == cmp.StatusWaiting && !e.Unprotected {
		return t.poll(ctx, -1, r.expect)
	}
	return resp, err
}

// confirm sends certConf for cert — accepted when status is nil, else the
// given rejection — and expects pkiConf (RFC 9483 section 4.1.1).
func (t *transaction) confirm(ctx context.Context, cert *x509.Certificate, certReqID int64, status *cmp.PKIStatusInfo) error {
	cs := cmp.CertStatus{CertReqID: certReqID, StatusInfo: status}
	pvno := cmp.PVNO2
	// RFC 9810 5.3.18 / RFC 9481 section 2: hash with the hash of the
	// certificate's signature algorithm. Only when that algorithm names no
	// hash, say which one was used in hashAlg, a version-3 feature.
	hash, err := cmp.CertHash(cert)
	switch {
	case errors.Is(err, cmp.ErrUnsupportedAlgorithm):
		sum := sha256.Sum256(cert.Raw)
		hash = sum[:]
		cs.HashAlg = &pkix.AlgorithmIdentifier{Algorithm: cmp.OIDSHA256}
		pvno = cmp.PVNO3
	case err != nil:
		return t.wrap(fmt.Errorf("certHash: %w", err))
	}
	cs.CertHash = hash
	_, err = t.roundTrip(ctx, request{
		body:   cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{cs}},
		pvno:   pvno,
		expect: []cmp.BodyType{cmp.BodyPKIConf},
	})
	return err
}

// enrollment collects the issued certificate and the certificates of the
// response.
func (t *transaction) enrollment(resp *cmp.Message, cr *cmp.CertResponse) (*Enrollment, error) {
	cert, err := x509.ParseCertificate(cr.Certificate)
	if err != nil {
		return nil, t.protocolError(fmt.Errorf("%w: issued certificate: %w", ErrMalformedResponse, err))
	}
	enr := &Enrollment{
		Certificate:   cert,
		Status:        cr.Status,
		TransactionID: t.id,
		Operation:     t.op,
	}
	if enr.CACerts, err = parseCerts(resp.Body.CertRep.CAPubs); err != nil {
		return nil, t.protocolError(fmt.Errorf("%w: caPubs: %w", ErrMalformedResponse, err))
	}
	if enr.ExtraCerts, err = parseCerts(resp.ExtraCerts); err != nil {
		return nil, t.protocolError(fmt.Errorf("%w: extraCerts: %w", ErrMalformedResponse, err))
	}
	return enr, nil
}

func parseCerts(ders [][]byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for i, der := range ders {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", i, err)
		}
		out = append(out, cert)
	}
	return out, nil
}
