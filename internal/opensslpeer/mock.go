package opensslpeer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The PBM credential the mock accepts by default (-srv_ref, -srv_secret).
const (
	MockReference = "1234"
	MockSecret    = "test"
)

// mockLifetime bounds every mock server (`timeout 120 openssl cmp -port 0`).
const mockLifetime = 120 * time.Second

// MockOption changes how StartMock runs the mock server.
type MockOption func(*mockConfig)

type mockConfig struct {
	pbm       bool
	rspCert   *Cred
	maxMsgs   int
	extraArgs []string
}

// SignatureOnly leaves out -srv_ref/-srv_secret, so the mock rejects every
// MAC-protected request ("missing secret") and answers signed ones: server B
// of openssl-cmp-peer.md, the one to use for kur, cr and rr.
func SignatureOnly() MockOption { return func(c *mockConfig) { c.pbm = false } }

// RspCert sets the certificate the mock returns for every ir/cr/kur/p10cr
// (default Client1). OpenSSL 3.0 also accepts kur and rr only for this
// certificate's issuer and serial.
func RspCert(c Cred) MockOption { return func(m *mockConfig) { m.rspCert = &c } }

// MaxMsgs bounds how many requests the mock serves (default 50).
func MaxMsgs(n int) MockOption { return func(c *mockConfig) { c.maxMsgs = n } }

// Args appends mock server options, such as the fault options
// "-poll_count", "2", "-check_after", "1" or "-send_error".
func Args(args ...string) MockOption {
	return func(c *mockConfig) { c.extraArgs = append(c.extraArgs, args...) }
}

// Mock is a running `openssl cmp` mock server.
type Mock struct {
	// URL is the CMP endpoint, http://127.0.0.1:<port>/pkix/.
	URL  string
	Port int
	// PID is the openssl process (a child of `timeout`).
	PID int

	cmd    *exec.Cmd
	output *cappedBuffer
}

var acceptLine = regexp.MustCompile(`^ACCEPT \S*:(\d+) PID=(\d+)\s*$`)

// StartMock starts `timeout 120 openssl cmp -port 0 -max_msgs N ...` with
// the credentials of creds and stops it by its PID when the test ends.
// Without options it is server A of openssl-cmp-peer.md: it accepts PBM
// (MockReference/MockSecret) and signatures by certificates under
// creds.Root, signs its answers to signed requests with creds.Server, and
// returns creds.Client1 with caPubs and extraCerts holding creds.Root.
//
// The mock binds every interface, so StartMock fails the test unless the
// process runs in a private network namespace (see InNetNS). Its output is
// written to the test log when the test fails.
func StartMock(t testing.TB, creds *Creds, opts ...MockOption) *Mock {
	t.Helper()
	if _, ok := os.LookupEnv(netnsEnv); !ok {
		t.Fatalf("opensslpeer: StartMock outside a private network namespace; begin the test with `if !opensslpeer.InNetNS(t) { return }`")
	}
	cfg := mockConfig{pbm: true, rspCert: &creds.Client1, maxMsgs: 50}
	for _, o := range opts {
		o(&cfg)
	}
	args := []string{strconv.Itoa(int(mockLifetime.Seconds())), "openssl", "cmp",
		"-port", "0", "-max_msgs", strconv.Itoa(cfg.maxMsgs),
		"-srv_cert", creds.Server.CertFile, "-srv_key", creds.Server.KeyFile,
		"-srv_trusted", creds.Root.CertFile,
		"-rsp_cert", cfg.rspCert.CertFile,
		"-rsp_capubs", creds.Root.CertFile, "-rsp_extracerts", creds.Root.CertFile,
	}
	if cfg.pbm {
		args = append(args, "-srv_ref", MockReference, "-srv_secret", "pass:"+MockSecret)
	}
	args = append(args, cfg.extraArgs...)

	cmd := exec.Command("timeout", args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("opensslpeer: %v", err)
	}
	m := &Mock{cmd: cmd, output: &cappedBuffer{limit: 256 * 1024}}
	cmd.Stderr = m.output
	if err := cmd.Start(); err != nil {
		t.Fatalf("opensslpeer: start openssl cmp mock: %v", err)
	}
	t.Cleanup(func() {
		m.stop()
		if t.Failed() {
			t.Logf("openssl cmp mock output:\n%s", m.output.String())
		}
	})

	// The ACCEPT line comes first, once the socket listens; the rest of
	// stdout is drained into the capped buffer so the server never blocks.
	found := make(chan error, 1)
	go func() {
		r := bufio.NewReader(stdout)
		reported := false
		for {
			line, err := r.ReadString('\n')
			if !reported {
				if mm := acceptLine.FindStringSubmatch(line); mm != nil {
					m.Port, _ = strconv.Atoi(mm[1])
					m.PID, _ = strconv.Atoi(mm[2])
					reported = true
					found <- nil
				} else {
					m.output.Write([]byte(line))
				}
			} else {
				m.output.Write([]byte(line))
			}
			if err != nil {
				if !reported {
					found <- fmt.Errorf("openssl cmp mock exited before listening: %v", err)
				}
				io.Copy(io.Discard, r)
				return
			}
		}
	}()
	select {
	case err := <-found:
		if err != nil {
			t.Fatalf("opensslpeer: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("opensslpeer: openssl cmp mock printed no ACCEPT line within 15s")
	}
	if m.Port <= 0 || m.PID <= 0 {
		t.Fatalf("opensslpeer: bad ACCEPT line from openssl cmp mock (port %d, pid %d)", m.Port, m.PID)
	}
	m.URL = fmt.Sprintf("http://127.0.0.1:%d/pkix/", m.Port)
	return m
}

// Output returns what the mock printed so far (its log of messages; it
// holds no secrets).
func (m *Mock) Output() string { return m.output.String() }

// stop ends the openssl process by its PID, then its `timeout` parent (GNU
// timeout passes SIGTERM on to its child), and reaps it.
func (m *Mock) stop() {
	if m.PID > 0 {
		_ = syscall.Kill(m.PID, syscall.SIGTERM)
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
	}
}

// cappedBuffer keeps the first limit bytes written to it; safe for
// concurrent use.
type cappedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
