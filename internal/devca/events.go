package devca

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Event describes one CMP message the CA handled. The devca command prints
// each as one JSON line on standard output; in-process users receive them
// through Config.Events.
type Event struct {
	Time time.Time `json:"time"`
	// Op is the request type: ir, cr, kur, p10cr, rr, genm, certConf,
	// pollReq, error, or "invalid" for input that did not decode.
	Op string `json:"op"`
	// TransactionID is the request's transactionID in lower-case hex.
	TransactionID string `json:"transaction_id"`
	// Status is the outcome: the PKIStatus name given to the client
	// (accepted, grantedWithMods, rejection, waiting, revocationWarning,
	// revocationNotification, keyUpdateWarning), "confirmed" for a certConf
	// that accepted the certificate, "error" when the CA answered with an
	// error message, and "expired" (op certConf) when the CA revoked a
	// certificate whose certConf did not come within Config.ConfirmWaitTime.
	Status string `json:"status"`
	// Serial (decimal) and Subject (RFC 4514) of the certificate involved:
	// issued, revoked or confirmed.
	Serial  string `json:"serial,omitempty"`
	Subject string `json:"subject,omitempty"`
	// FailInfo names the PKIFailureInfo bits of a refusal.
	FailInfo []string `json:"fail_info,omitempty"`
	// StatusString is the reason given to the client for a refusal.
	StatusString string `json:"status_string,omitempty"`
	// Profile is the <profile> of a /.well-known/cmp/p/<profile> request,
	// else the certProfile in the request's generalInfo.
	Profile string `json:"profile,omitempty"`
	// Protection is how the request was protected: "mac", "signature" or "none".
	Protection string `json:"protection,omitempty"`
	// InfoTypes lists the OIDs a genm asked for.
	InfoTypes []string `json:"info_types,omitempty"`
}

// Ready is the first line the devca command prints once it accepts requests.
type Ready struct {
	// URL is the CMP endpoint, http://ADDR/.well-known/cmp.
	URL string `json:"url"`
	// Reference and Secret are the PBM credential for IR and P10CR.
	Reference string `json:"reference"`
	Secret    string `json:"secret"`
	// CACertificateFile is the PEM file of the root CA certificate.
	CACertificateFile string `json:"ca_certificate_file"`
	// SignerCertificateFile is the PEM file of the CMP signer certificate.
	SignerCertificateFile string `json:"signer_certificate_file"`
	// CACertificatePEM is the root CA certificate itself.
	CACertificatePEM string `json:"ca_certificate_pem"`
	Dir              string `json:"dir"`
	Listen           string `json:"listen"`
	// Development is always true: this CA is not for production use.
	Development bool `json:"development"`
}

// jsonLines writes values as JSON lines, one Write per line, safe for
// concurrent use.
type jsonLines struct {
	mu sync.Mutex
	w  io.Writer
}

func (j *jsonLines) write(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	_, _ = j.w.Write(append(line, '\n'))
}
