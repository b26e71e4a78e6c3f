package devca

import (
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// CA is a development CMP certificate authority. It is an http.Handler:
// serve it with net/http or httptest.NewServer.
type CA struct {
	cfg   Config
	st    *state
	store *store
	txs   transactions
	// macKeys caches PBM keys derived from the shared secret.
	macKeys cmp.PBMKeyCache
	// ownRoots holds the CA certificate; externalRoots Config.Trusted (nil
	// when there are none).
	ownRoots, externalRoots *x509.CertPool
	// rootUpdate is the rootCaKeyUpdate value announcing a new root
	// (Config.AnnounceNewRoot), nil when there is none.
	rootUpdate []byte
	// stopExpiry ends the timer that revokes unconfirmed certificates.
	stopExpiry chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

// New opens (or creates) the CA state in cfg.Dir.
func New(cfg Config) (*CA, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	st, err := loadState(cfg.Dir, cfg.Now())
	if err != nil {
		return nil, err
	}
	if cfg.Reference != "" {
		st.reference = cfg.Reference
	}
	if err := checkEmulationCA(cfg.Emulate, st.caCert); err != nil {
		return nil, err
	}
	if ref, err := emulationReference(cfg.Emulate, cfg.Reference, st.reference); err != nil {
		return nil, err
	} else if ref != "" {
		st.reference = ref
	}
	if cfg.Secret != "" {
		st.secret = cfg.Secret
	}
	s, err := openStore(filepath.Join(cfg.Dir, recordFile))
	if err != nil {
		return nil, err
	}
	ca := &CA{cfg: cfg, st: st, store: s, ownRoots: x509.NewCertPool(), stopExpiry: make(chan struct{})}
	// The CA certificate is the anchor for its own end entities, also when
	// it is an intermediate a user put in place.
	ca.ownRoots.AddCert(st.caCert)
	if len(cfg.Trusted) > 0 {
		ca.externalRoots = x509.NewCertPool()
		for _, c := range cfg.Trusted {
			ca.externalRoots.AddCert(c)
		}
	}
	if cfg.AnnounceNewRoot {
		if ca.rootUpdate, err = newRootUpdate(st.caKey, st.caCert, cfg.Now()); err != nil {
			_ = s.close()
			return nil, err
		}
	}
	go ca.expiryLoop(ca.stopExpiry)
	return ca, nil
}

// Close revokes the certificates still awaiting certConf (no certConf can
// reach them after a restart), stops the CA's timer and releases the record
// file. Requests after Close fail.
func (ca *CA) Close() error {
	ca.closeOnce.Do(func() {
		close(ca.stopExpiry)
		ca.abandonUnconfirmed(ca.cfg.Now())
		ca.closeErr = ca.store.close()
	})
	return ca.closeErr
}

// Reference is the PBM reference (senderKID) for MAC-protected requests.
func (ca *CA) Reference() string { return ca.st.reference }

// Secret is the PBM shared secret.
func (ca *CA) Secret() string { return ca.st.secret }

// CACertificate is the root CA certificate.
func (ca *CA) CACertificate() *x509.Certificate { return ca.st.caCert }

// SignerCertificate is the CMP signer certificate that signs responses.
func (ca *CA) SignerCertificate() *x509.Certificate { return ca.st.signerCert }

// CACertificateFile is the absolute path of the root CA certificate (PEM).
func (ca *CA) CACertificateFile() string { return absPath(filepath.Join(ca.cfg.Dir, caCertFile)) }

// SignerCertificateFile is the absolute path of the CMP signer certificate (PEM).
func (ca *CA) SignerCertificateFile() string {
	return absPath(filepath.Join(ca.cfg.Dir, signerCertFile))
}

// Certificate returns a certificate this CA issued, by serial number
// (decimal), and whether it is revoked. The certificate is read back from
// the record file (the CA keeps only a small record of each in memory);
// cert is nil when that fails, for example after Close.
func (ca *CA) Certificate(serial string) (cert *x509.Certificate, revoked bool, ok bool) {
	n, good := new(big.Int).SetString(serial, 10)
	if !good {
		return nil, false, false
	}
	ca.expireUnconfirmed(ca.cfg.Now())
	rec, found := ca.store.lookup(n)
	if !found {
		return nil, false, false
	}
	cert, err := ca.store.certificate(rec)
	if err != nil {
		cert = nil
	}
	return cert, rec.revoked, true
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// contentType is the media type of CMP over HTTP (RFC 6712 section 3.4).
const contentType = "application/pkixcmp"

// ServeHTTP answers one CMP request (RFC 6712): POST of a DER PKIMessage to
// /.well-known/cmp, /.well-known/cmp/p/<profile> or /, or to the paths of
// Config.Emulate (see Emulation). Every CMP answer,
// including refusals of undecodable input, is HTTP 200 with a PKIMessage.
func (ca *CA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	profile, status, text := ca.route(r.URL.Path)
	if status != 0 {
		http.Error(w, text, status)
		return
	}
	if ca.cfg.Emulate == EmulateVault && !clientCertificateOK(r) {
		// Vault authenticates CMP clients with a TLS client certificate
		// (its cert auth method) and denies anything else.
		http.Error(w, "permission denied: a TLS client certificate of this CA or of a -trust anchor is required", http.StatusForbidden)
		return
	}
	if ca.cfg.Username != "" && !ca.basicAuthOK(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="cmpv2 development CA", charset="UTF-8"`)
		http.Error(w, "HTTP basic authentication required", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "CMP over HTTP uses POST (RFC 6712)", http.StatusMethodNotAllowed)
		return
	}
	// RFC 6712 section 3.4: a PKIMessage travels as application/pkixcmp.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentType {
		http.Error(w, "Content-Type must be "+contentType+" (RFC 6712 section 3.4)", http.StatusUnsupportedMediaType)
		return
	}
	der, err := io.ReadAll(io.LimitReader(r.Body, cmp.MaxMessageSize+1))
	if err != nil {
		http.Error(w, "reading the request failed", http.StatusBadRequest)
		return
	}
	if len(der) > cmp.MaxMessageSize {
		http.Error(w, fmt.Sprintf("a CMP message may have at most %d bytes", cmp.MaxMessageSize), http.StatusRequestEntityTooLarge)
		return
	}

	resp, ev := ca.handleSafely(der, profile)
	if profile != "" {
		ev.Profile = profile // the path's profile wins over the request's certProfile
	}
	ca.emit(ev)
	if ca.cfg.hasFault(FaultSlow) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
			return
		}
	}
	if resp == nil {
		// FaultDropAfterIssue: the answer is lost on the way.
		http.Error(w, "response dropped (fault mode drop-after-issue)", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	// RFC 9112 section 6.3: without Content-Length, an answer larger than
	// the server's buffer to an HTTP/1.0 client can only end by closing the
	// connection, which breaks that client's keep-alive (RFC 6712 section
	// 3.2 allows persistent connections).
	w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
	_, _ = w.Write(resp)
}

// basicAuthOK checks the request's HTTP basic authentication in constant
// time.
func (ca *CA) basicAuthOK(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(ca.cfg.Username)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(ca.cfg.Password)) == 1
	return ok && userOK && passOK
}

// cmpPath returns the profile named by a request path, and whether the
// path is a CMP endpoint at all.
func cmpPath(path string) (profile string, ok bool) {
	switch path {
	case "/", "/.well-known/cmp", "/.well-known/cmp/":
		return "", true
	}
	const prefix = "/.well-known/cmp/p/"
	if p, found := strings.CutPrefix(path, prefix); found {
		p = strings.TrimSuffix(p, "/")
		if p != "" && !strings.Contains(p, "/") {
			return p, true
		}
	}
	return "", false
}

// handleSafely runs handle and turns a panic, which must never happen,
// into a CMP error answer rather than a broken connection.
func (ca *CA) handleSafely(der []byte, profile string) (resp []byte, ev Event) {
	defer func() {
		if p := recover(); p != nil {
			ev = Event{Op: "invalid", Status: "error", StatusString: "internal error"}
			ev.FailInfo = cmp.FailSystemFailure.Names()
			resp = ca.unprotectedError(nil, refuse(cmp.FailSystemFailure, "internal error while handling the request"))
		}
	}()
	return ca.handle(der)
}

// handle decodes, checks and answers one request.
func (ca *CA) handle(der []byte) ([]byte, Event) {
	now := ca.cfg.Now()
	ca.expireUnconfirmed(now)
	msg, err := cmp.Parse(der)
	if err != nil {
		fi := cmp.FailBadDataFormat
		if errors.Is(err, cmp.ErrUnsupportedBody) {
			fi = cmp.FailBadRequest
		}
		ref := refuse(fi, "the request is not a PKIMessage this CA accepts: %v", err)
		return ca.unprotectedError(nil, ref), refusalEvent(Event{Op: "invalid"}, ref)
	}
	ev := Event{
		Op:            opName(msg.Body.Type),
		TransactionID: hex.EncodeToString(msg.Header.TransactionID),
		Protection:    protectionNone,
		Profile:       requestedProfile(msg.Header),
	}
	if msg.Header.ProtectionAlg != nil {
		ev.Protection = protectionSignature
		if cmp.IsMACProtected(msg.Header.ProtectionAlg) {
			ev.Protection = protectionMAC
		}
	}
	if ca.cfg.hasFault(FaultUnprotectedError) {
		ref := refuse(cmp.FailSystemUnavail, "the CA is unavailable (fault mode unprotected-error)")
		return ca.unprotectedError(msg, ref), refusalEvent(ev, ref)
	}
	if ref := checkHeader(msg); ref != nil {
		return ca.errorAnswer(msg, nil, requestMAC(msg), ref), refusalEvent(ev, ref)
	}
	if ref := ca.emulationRefusal(msg); ref != nil {
		return ca.errorAnswer(msg, nil, requestMAC(msg), ref), refusalEvent(ev, ref)
	}
	who, ref := ca.verifyProtection(msg, now)
	if ref != nil {
		return ca.errorAnswer(msg, nil, requestMAC(msg), ref), refusalEvent(ev, ref)
	}
	if ref := ca.checkMessageTime(msg, now); ref != nil {
		return ca.errorAnswer(msg, nil, who.macAlgFor(), ref), refusalEvent(ev, ref)
	}
	switch msg.Body.Type {
	case cmp.BodyIR, cmp.BodyCR, cmp.BodyKUR, cmp.BodyP10CR:
		return ca.enroll(msg, who, ev, now)
	case cmp.BodyCertConf:
		return ca.certConf(msg, who, ev, now)
	case cmp.BodyPollReq:
		return ca.pollReq(msg, who, ev, now)
	case cmp.BodyError:
		return ca.clientError(msg, who, ev, now)
	case cmp.BodyRR:
		return ca.revocation(msg, who, ev, now)
	case cmp.BodyGenM:
		return ca.general(msg, who, ev, now)
	}
	ref = refuse(cmp.FailBadRequest, "a %s is not a request this CA answers", msg.Body.Type)
	return ca.errorAnswer(msg, nil, who.macAlgFor(), ref), refusalEvent(ev, ref)
}

// checkHeader applies the header rules every request must meet
// (RFC 9483 section 3.1).
func checkHeader(msg *cmp.Message) *refusal {
	h := &msg.Header
	switch {
	case h.PVNO != cmp.PVNO2 && h.PVNO != cmp.PVNO3:
		return refuse(cmp.FailUnsupportedVersion, "pvno %d is not supported (2 or 3)", h.PVNO)
	case !h.Sender.IsDirectoryName():
		return refuse(cmp.FailBadDataFormat, "the sender must be a directoryName")
	case len(h.TransactionID) == 0:
		return refuse(cmp.FailBadRequest, "the request has no transactionID")
	case len(h.SenderNonce) == 0:
		return refuse(cmp.FailBadSenderNonce, "the request has no senderNonce")
	case len(h.SenderNonce) < 8:
		return refuse(cmp.FailBadSenderNonce, "the senderNonce has %d bytes; at least 8 (RFC 9483: 16) are needed", len(h.SenderNonce))
	}
	return nil
}

// checkMessageTime refuses a request whose messageTime, when present, is
// further from the CA's clock than Config.MaxTimeSkew (RFC 9483 3.5: the
// recipient checks messageTime if present; RFC 9810 5.2.3: badTime). It
// runs after the protection check, so only an authenticated time counts.
func (ca *CA) checkMessageTime(msg *cmp.Message, now time.Time) *refusal {
	t := msg.Header.MessageTime
	if t.IsZero() || ca.cfg.MaxTimeSkew < 0 {
		return nil
	}
	// messageTime has whole seconds; allow for the truncation.
	skew := t.Sub(now.Truncate(time.Second))
	if skew < 0 {
		skew = -skew
	}
	if skew > ca.cfg.MaxTimeSkew {
		return refuse(cmp.FailBadTime, "messageTime %s is %v away from the CA's clock (%s); at most %v is accepted",
			t.UTC().Format(time.RFC3339), skew.Round(time.Second), now.UTC().Format(time.RFC3339), ca.cfg.MaxTimeSkew)
	}
	return nil
}

// opName is the event name of a request body.
func opName(t cmp.BodyType) string {
	switch t {
	case cmp.BodyPKIConf:
		return "pkiConf"
	}
	return t.String()
}

func (ca *CA) emit(ev Event) {
	if ca.cfg.Events == nil {
		return
	}
	ev.Time = ca.cfg.Now().UTC()
	ca.cfg.Events(ev)
}

// refusalEvent completes an event for a refused message.
func refusalEvent(ev Event, ref *refusal) Event {
	ev.Status = "error"
	ev.FailInfo = ref.failInfo.Names()
	ev.StatusString = ref.text
	return ev
}
