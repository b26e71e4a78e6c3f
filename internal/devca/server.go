package devca

import (
	"crypto/x509"
	"net/http"
	"path/filepath"
)

// CA is a development CMP certificate authority. It is an http.Handler:
// serve it with net/http or httptest.NewServer.
type CA struct {
	cfg   Config
	st    *state
	store *store
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
		st.reference, st.secret = cfg.Reference, cfg.Secret
	}
	s, err := openStore(filepath.Join(cfg.Dir, recordFile))
	if err != nil {
		return nil, err
	}
	return &CA{cfg: cfg, st: st, store: s}, nil
}

// Close releases the record file. Requests after Close fail.
func (ca *CA) Close() error { return ca.store.close() }

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

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// ServeHTTP answers one CMP request.
func (ca *CA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented yet", http.StatusServiceUnavailable)
}
