package cmpclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// contentType is the media type of CMP messages over HTTP (RFC 6712
// section 3.4).
const contentType = "application/pkixcmp"

// DefaultMessageTimeout bounds one request/response exchange when
// Client.MessageTimeout is zero.
const DefaultMessageTimeout = 2 * time.Minute

const (
	// maxBusyRetries bounds how often one message is resent after HTTP 503.
	maxBusyRetries = 5
	// maxRetryAfter caps one Retry-After wait; a server asking for longer
	// is answered with an error rather than a stalled apply.
	maxRetryAfter = 5 * time.Minute
	// errorSnippet is how much of a non-CMP error body goes into an error.
	errorSnippet = 200
)

// defaultHTTPClient is shared by every Client whose HTTPClient is nil, so
// connections are kept alive across transactions and clients.
var defaultHTTPClient = &http.Client{Transport: NewTransport(nil)}

// NewTransport returns a clone of http.DefaultTransport that takes proxies
// from the environment (HTTPS_PROXY, NO_PROXY), keeps enough idle
// connections per host for concurrent enrollments, and uses tlsConfig
// (nil: system roots, no client certificate).
func NewTransport(tlsConfig *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.MaxIdleConnsPerHost = 32
	if tlsConfig != nil {
		t.TLSClientConfig = tlsConfig
	}
	return t
}

// TLSOptions are the TLS settings of a CMP endpoint reached over https,
// in PEM as configuration files hold them. The zero value verifies the
// server against the system roots and presents no client certificate.
type TLSOptions struct {
	// CAPEM holds the certificates trusted for the server's TLS
	// certificate instead of the system roots.
	CAPEM []byte
	// ClientCertificatePEM (the certificate, then its chain) and
	// ClientKeyPEM authenticate the client (mutual TLS); both or neither.
	ClientCertificatePEM []byte
	ClientKeyPEM         []byte
	// ServerName is the name the server's certificate is verified
	// against instead of the URL's host.
	ServerName string
	// InsecureSkipVerify turns off the verification of the server's TLS
	// certificate. CMP protection still authenticates the messages, but
	// the HTTP layer (basic authentication included) is then exposed: for
	// tests only.
	InsecureSkipVerify bool
}

// TLSOptionError is a TLSOptions value that cannot be used. Its message
// never quotes a key.
type TLSOptionError struct {
	// Option is the TLSOptions field: "CAPEM", "ClientCertificatePEM" or
	// "ClientKeyPEM".
	Option string
	Err    error
}

func (e *TLSOptionError) Error() string { return "TLS option " + e.Option + ": " + e.Err.Error() }
func (e *TLSOptionError) Unwrap() error { return e.Err }

// TLSConfig builds the tls.Config of o (TLS 1.2 or later), for
// &http.Client{Transport: NewTransport(cfg)}. Errors are *TLSOptionError.
func TLSConfig(o TLSOptions) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         o.ServerName,
		InsecureSkipVerify: o.InsecureSkipVerify, //nolint:gosec // opt-in, documented as for tests only
	}
	if len(o.CAPEM) > 0 {
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(o.CAPEM) {
			return nil, &TLSOptionError{Option: "CAPEM", Err: errors.New("no PEM certificate found")}
		}
	}
	switch {
	case len(o.ClientCertificatePEM) > 0 && len(o.ClientKeyPEM) == 0:
		return nil, &TLSOptionError{Option: "ClientKeyPEM", Err: errors.New("missing: the client certificate needs its private key")}
	case len(o.ClientKeyPEM) > 0 && len(o.ClientCertificatePEM) == 0:
		return nil, &TLSOptionError{Option: "ClientCertificatePEM", Err: errors.New("missing: the client private key needs its certificate")}
	case len(o.ClientCertificatePEM) > 0:
		// The certificate is checked first, so that what X509KeyPair
		// finds wrong afterwards is the key or the pair.
		block, _ := pem.Decode(o.ClientCertificatePEM)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, &TLSOptionError{Option: "ClientCertificatePEM", Err: errors.New("no PEM certificate found at the start")}
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, &TLSOptionError{Option: "ClientCertificatePEM", Err: err}
		}
		pair, err := tls.X509KeyPair(o.ClientCertificatePEM, o.ClientKeyPEM)
		if err != nil {
			// X509KeyPair's errors describe the key or the mismatch
			// without quoting the key.
			return nil, &TLSOptionError{Option: "ClientKeyPEM", Err: err}
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultHTTPClient
}

func (c *Client) messageTimeout() time.Duration {
	if c.MessageTimeout > 0 {
		return c.MessageTimeout
	}
	return DefaultMessageTimeout
}

// exchange POSTs one DER-encoded CMP message and returns the DER of the
// answer, retrying after HTTP 503 with Retry-After within ctx. A non-200
// answer that carries a CMP message is returned with its status, so that a
// CMP error body wins over the bare HTTP status; any other non-200 answer
// is an *Error with HTTPStatus.
func (c *Client) exchange(ctx context.Context, t *transaction, req []byte) (body []byte, httpStatus int, err error) {
	for attempt := 0; ; attempt++ {
		body, status, retryAfter, err := c.postOnce(ctx, t, req)
		if err != nil || status != http.StatusServiceUnavailable || retryAfter < 0 {
			return body, status, err
		}
		// RFC 9110 15.6.4: the server is busy and says when to come back;
		// wait only a bounded number of times, and only if that is still
		// within the caller's time.
		busy := t.httpError(status, "")
		switch dl, hasDeadline := ctx.Deadline(); {
		case attempt >= maxBusyRetries:
			busy.Detail = fmt.Sprintf("server still busy after %d retries", attempt)
			return nil, status, busy
		case retryAfter > maxRetryAfter:
			busy.Detail = fmt.Sprintf("server busy, Retry-After %v is longer than %v", retryAfter, maxRetryAfter)
			return nil, status, busy
		case hasDeadline && time.Until(dl) < retryAfter:
			busy.Detail = fmt.Sprintf("server busy, Retry-After %v is past the deadline", retryAfter)
			return nil, status, busy
		}
		if err := sleep(ctx, retryAfter); err != nil {
			return nil, 0, t.wrap(fmt.Errorf("waiting for Retry-After: %w", err))
		}
	}
}

// postOnce performs one HTTP round trip under the per-message timeout.
// retryAfter is -1 unless the answer is 503 with a usable Retry-After.
func (c *Client) postOnce(ctx context.Context, t *transaction, req []byte) (body []byte, status int, retryAfter time.Duration, err error) {
	retryAfter = -1
	mctx, cancel := context.WithTimeout(ctx, c.messageTimeout())
	defer cancel()
	hreq, err := http.NewRequestWithContext(mctx, http.MethodPost, c.URL, bytes.NewReader(req))
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, 0, retryAfter, t.wrap(fmt.Errorf("build HTTP request: Client.URL: %w", err))
	}
	hreq.Header.Set("Content-Type", contentType)
	hreq.Header.Set("Accept", contentType)
	// Servers may end keep-alive connections at any time (RFC 6712 section
	// 3.2; OpenSSL's mock closes them after a transaction without
	// "Connection: close"), so a request can meet a stale connection. An
	// empty Idempotency-Key lets net/http resend on a fresh connection when
	// a reused one failed before any answer (the header is not sent). A
	// server that did receive the first copy sees the same transactionID and
	// senderNonce again, which RFC 9810 lets it refuse as a replay
	// (transactionIdInUse, badSenderNonce); the exchange then fails rather
	// than acting twice.
	hreq.Header["Idempotency-Key"] = nil
	if c.Username != "" || c.Password != "" {
		hreq.SetBasicAuth(c.Username, c.Password)
	}
	resp, err := noRedirects(c.httpClient()).Do(hreq)
	if err != nil {
		if ctx.Err() == nil && mctx.Err() != nil {
			err = fmt.Errorf("no answer within the message timeout %v: %w", c.messageTimeout(), err)
		}
		// err is a *url.Error naming the method and the URL (without a
		// password).
		return nil, 0, retryAfter, t.wrap(err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, cmp.MaxMessageSize+1))
	if err != nil {
		if ctx.Err() == nil && mctx.Err() != nil {
			err = fmt.Errorf("no complete answer within the message timeout %v: %w", c.messageTimeout(), err)
		}
		return nil, resp.StatusCode, retryAfter, t.wrap(fmt.Errorf("read HTTP response: %w", err))
	}
	if len(data) > cmp.MaxMessageSize {
		return nil, resp.StatusCode, retryAfter, t.protocolError(fmt.Errorf("%w: larger than %d bytes", ErrResponseTooLarge, cmp.MaxMessageSize))
	}
	isCMP := isCMPContentType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusOK {
		if !isCMP {
			return nil, resp.StatusCode, retryAfter, t.protocolError(fmt.Errorf("%w: HTTP 200 with Content-Type %q, want %s",
				ErrContentType, resp.Header.Get("Content-Type"), contentType))
		}
		return data, resp.StatusCode, retryAfter, nil
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if retryAfter >= 0 {
			return nil, resp.StatusCode, retryAfter, nil
		}
	}
	if isCMP && len(data) > 0 {
		return data, resp.StatusCode, retryAfter, nil
	}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, resp.StatusCode, retryAfter, t.httpError(resp.StatusCode, fmt.Sprintf(
			"redirect to %s not followed (RFC 6712 section 3.3); set Client.URL to the new location if it is trusted", redactURL(loc)))
	}
	return nil, resp.StatusCode, retryAfter, t.httpError(resp.StatusCode, snippet(data))
}

// noRedirects returns hc, or a copy of it that does not follow redirects
// when hc would follow them by default: RFC 6712 section 3.3 wants a
// client to follow a CMP server's redirect only after careful
// consideration (a 301 can be misused; a 302 would turn the POST into a
// GET). A CheckRedirect the caller set is that consideration and is kept.
func noRedirects(hc *http.Client) *http.Client {
	if hc.CheckRedirect != nil {
		return hc
	}
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// redactURL prints a URL from a Location header without a password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

func isCMPContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && strings.EqualFold(mt, contentType)
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 10.2.3);
// -1 when absent or unusable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second
	}
	if when, err := http.ParseTime(v); err == nil {
		if d := when.Sub(now); d > 0 {
			return d
		}
		return 0
	}
	return -1
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// snippet makes the start of a non-CMP error body printable for an error
// message: printable characters only, at most errorSnippet bytes.
func snippet(data []byte) string {
	if len(data) > errorSnippet {
		data = data[:errorSnippet]
	}
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(bytes.ToValidUTF8(data, nil)))
	return strings.TrimSpace(s)
}

var (
	// ErrContentType: the server answered with something other than
	// application/pkixcmp.
	ErrContentType = errors.New("wrong Content-Type")
	// ErrResponseTooLarge: the answer exceeded cmp.MaxMessageSize.
	ErrResponseTooLarge = errors.New("response too large")
)
