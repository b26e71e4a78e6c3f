package devca

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// longSubject is an OpenSSL -subject whose certificate makes an answer
// larger than net/http's 2 KB response buffer: the size from which a server
// that sets no Content-Length must close an HTTP/1.0 connection.
func longSubject() string {
	var b strings.Builder
	for i := range 24 {
		fmt.Fprintf(&b, "/OU=%02d%s", i, strings.Repeat("u", 60))
	}
	return b.String() + "/CN=keepalive"
}

// TestHTTP10KeepAlive sends two requests on one HTTP/1.0 keep-alive
// connection: the first answer is over 2 KB and must carry Content-Length,
// so that the connection stays open for the second.
func TestHTTP10KeepAlive(t *testing.T) {
	c := startCA(t, Config{})
	cn := strings.Repeat("k", 1500)
	ir := &cmp.Message{Header: header(rawName(t, cn)), Body: cmp.Body{Type: cmp.BodyIR}}
	key := newKey(t)
	ir.Body.CertReq = []cmp.CertReqMsg{certReq(t, cn, key, key)}
	requests := []struct {
		name    string
		body    []byte
		minSize int
	}{
		{name: "ip over 2 KB", body: macProtect(t, ir, c.ca.Reference(), c.ca.Secret()), minSize: 2048},
		{name: "error for undecodable input", body: []byte{0x30, 0x00}},
	}
	conn, err := net.DialTimeout("tcp", c.hostPort(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	for _, req := range requests {
		head := "POST /.well-known/cmp HTTP/1.0\r\nHost: " + c.hostPort() + "\r\nConnection: keep-alive\r\n" +
			"Content-Type: " + contentType + "\r\nContent-Length: " + strconv.Itoa(len(req.body)) + "\r\n\r\n"
		if _, err := conn.Write(append([]byte(head), req.body...)); err != nil {
			t.Fatalf("%s: write on the kept-alive connection: %v", req.name, err)
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("%s: read: %v", req.name, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: body: %v", req.name, err)
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
			t.Errorf("%s: Content-Length %q for a body of %d bytes", req.name, got, len(body))
		}
		if len(body) < req.minSize {
			t.Fatalf("%s: answer of %d bytes, the test needs at least %d", req.name, len(body), req.minSize)
		}
		if resp.Close {
			t.Fatalf("%s: the CA closes the HTTP/1.0 keep-alive connection after an answer of %d bytes", req.name, len(body))
		}
		if _, err := cmp.Parse(body); err != nil {
			t.Fatalf("%s: answer: %v", req.name, err)
		}
	}
}

// TestInteropOpenSSLKeepAlive runs OpenSSL's client with -keep_alive 2,
// which requires the connection to stay open from ir to certConf, for an
// answer over 2 KB.
func TestInteropOpenSSLKeepAlive(t *testing.T) {
	c := startCA(t, Config{})
	dir := t.TempDir()
	key, _ := writeKey(t, dir, "k.pem")
	out := filepath.Join(dir, "c.crt")
	res := c.openssl(t, append(c.pbm(), "-cmd", "ir", "-keep_alive", "2", "-newkey", key, "-subject", longSubject(),
		"-certout", out, "-rspout", filepath.Join(dir, "ip.der")+" "+filepath.Join(dir, "pkiconf.der"))...)
	expect(t, res, 0, "received IP", "received PKICONF")
	expectEvents(t, c.log, 0, "ir:accepted", "certConf:confirmed")
	if cert := readCert(t, out); cert.Subject.CommonName != "keepalive" {
		t.Errorf("certificate subject %s", cert.Subject)
	}
	if ip, err := os.ReadFile(filepath.Join(dir, "ip.der")); err != nil || len(ip) < 2048 {
		t.Fatalf("the ip has %d bytes (%v); the test needs over 2 KB", len(ip), err)
	}
}
