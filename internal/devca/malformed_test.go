package devca

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// post sends body to the handler in-process and returns the recorder.
func post(h http.Handler, method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// cmpError decodes an answer that must be a CMP error message and returns
// its failure bits.
func cmpError(t testing.TB, rec *httptest.ResponseRecorder) (*cmp.Message, cmp.FailureInfo) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d, want 200; body %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != contentType {
		t.Fatalf("Content-Type %q", ct)
	}
	msg, err := cmp.Parse(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("answer does not parse: %v", err)
	}
	if msg.Body.Type != cmp.BodyError {
		t.Fatalf("answer is a %s, want error", msg.Body.Type)
	}
	return msg, msg.Body.Error.Status.FailInfo
}

// sharedVector reads a message made by another implementation
// (internal/cmp/testdata/vectors; see its README).
func sharedVector(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "cmp", "testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestMalformedHTTP(t *testing.T) {
	c := startCA(t, Config{})
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        []byte
		code        int
	}{
		{"GET is not CMP", http.MethodGet, "/.well-known/cmp", "", nil, http.StatusMethodNotAllowed},
		{"unknown path", http.MethodPost, "/other", contentType, []byte{0x30, 0}, http.StatusNotFound},
		{"nested profile path", http.MethodPost, "/.well-known/cmp/p/a/b", contentType, []byte{0x30, 0}, http.StatusNotFound},
		{"wrong content type", http.MethodPost, "/.well-known/cmp", "text/plain", []byte{0x30, 0}, http.StatusUnsupportedMediaType},
		{"no content type", http.MethodPost, "/.well-known/cmp", "", []byte{0x30, 0}, http.StatusUnsupportedMediaType},
		{"content type with a parameter", http.MethodPost, "/.well-known/cmp", contentType + "; charset=binary", []byte{0x30, 0}, http.StatusOK},
		{"too large", http.MethodPost, "/.well-known/cmp", contentType, make([]byte, cmp.MaxMessageSize+1), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := post(c.ca, tc.method, tc.path, tc.contentType, tc.body)
			if rec.Code != tc.code {
				t.Fatalf("HTTP %d, want %d", rec.Code, tc.code)
			}
		})
	}
}

func TestMalformedMessages(t *testing.T) {
	c := startCA(t, Config{})
	tests := []struct {
		name string
		path string
		body func(t *testing.T) []byte
		want cmp.FailureInfo
	}{
		{"empty body", "/", func(*testing.T) []byte { return nil }, cmp.FailBadDataFormat},
		{"not DER", "/.well-known/cmp", func(*testing.T) []byte { return []byte("hello") }, cmp.FailBadDataFormat},
		{"truncated SEQUENCE", "/.well-known/cmp/p/tls", func(*testing.T) []byte { return []byte{0x30, 0x82, 0x01, 0x00, 0x02} }, cmp.FailBadDataFormat},
		{"trailing data", "/.well-known/cmp", func(t *testing.T) []byte {
			return append(sharedVector(t, "IR_protected.der"), 0)
		}, cmp.FailBadDataFormat},
		{"unprotected ir", "/.well-known/cmp", func(t *testing.T) []byte { return sharedVector(t, "IR_unprotected.der") }, cmp.FailBadMessageCheck},
		{"ir with protection removed", "/.well-known/cmp", func(t *testing.T) []byte { return sharedVector(t, "IR_rmprotection.der") }, cmp.FailBadMessageCheck},
		{"ir signed by an untrusted certificate", "/.well-known/cmp", func(t *testing.T) []byte { return sharedVector(t, "IR_protected_2_extraCerts.der") }, cmp.FailSignerNotTrusted},
		{"cr with someone else's MAC", "/.well-known/cmp", func(t *testing.T) []byte { return sharedVector(t, "CR_protected_PBM_1234.der") }, cmp.FailBadMessageCheck},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := post(c.ca, http.MethodPost, tc.path, contentType, tc.body(t))
			msg, fi := cmpError(t, rec)
			if !fi.Has(tc.want) {
				t.Errorf("failInfo %v, want %v", fi, tc.want)
			}
			if len(msg.Body.Error.Status.StatusString) == 0 || msg.Body.Error.Status.StatusString[0] == "" {
				t.Error("the error does not say why")
			}
		})
	}
}

// FuzzHandler feeds arbitrary bytes to the request path: the CA must
// answer every one with a CMP message (or a plain HTTP refusal for
// oversized input), never crash and never answer 500.
func FuzzHandler(f *testing.F) {
	for _, dir := range []string{filepath.Join("..", "cmp", "testdata", "golden"), filepath.Join("..", "cmp", "testdata", "vectors")} {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.der"))
		for _, m := range matches {
			if data, err := os.ReadFile(m); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x00})
	c := startCA(f, Config{})
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := post(c.ca, http.MethodPost, "/.well-known/cmp", contentType, body)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d for %d input bytes", rec.Code, len(body))
		}
		if _, err := cmp.Parse(rec.Body.Bytes()); err != nil {
			t.Fatalf("the answer does not parse: %v", err)
		}
	})
}

// FuzzProtectedRequest reaches past the protection check: every input that
// decodes is given a fresh transactionID and re-protected with the CA's
// PBM secret before it is sent, so the fuzzer explores the enrollment,
// confirmation, revocation and general-message paths. The seeds are the
// messages OpenSSL made for the codec's golden tests (reference 1234,
// secret test).
func FuzzProtectedRequest(f *testing.F) {
	matches, _ := filepath.Glob(filepath.Join("..", "cmp", "testdata", "golden", "*.der"))
	for _, m := range matches {
		if data, err := os.ReadFile(m); err == nil {
			f.Add(data)
		}
	}
	// MaxTimeSkew -1: the seeds' messageTime is when they were recorded.
	c := startCA(f, Config{Reference: "1234", Secret: "test", Polls: 0, MaxTimeSkew: -1})
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := cmp.Parse(body)
		if err != nil {
			return // FuzzHandler covers undecodable input
		}
		msg.Header.TransactionID = mustRandom(16)
		msg.Header.SenderKID = []byte("1234")
		if err := cmp.ProtectMAC(msg, cmp.MACParams{Algorithm: cmp.PBMHMACSHA1, Iterations: 500}, []byte("test")); err != nil {
			return // the fuzzer made a value the encoder refuses
		}
		der, err := msg.Marshal()
		if err != nil {
			return
		}
		rec := post(c.ca, http.MethodPost, "/.well-known/cmp", contentType, der)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d for a %s", rec.Code, msg.Body.Type)
		}
		if _, err := cmp.Parse(rec.Body.Bytes()); err != nil {
			t.Fatalf("the answer to a %s does not parse: %v", msg.Body.Type, err)
		}
	})
}
