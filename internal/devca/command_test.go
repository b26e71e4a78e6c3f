package devca

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
)

// buildBinary builds the project's binary (main.go dispatches `devca`).
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: builds the project binary")
	}
	bin := filepath.Join(t.TempDir(), "terraform-provider-cmpv2")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runningCommand is a `devca` process.
type runningCommand struct {
	cmd    *exec.Cmd
	ready  Ready
	lines  chan string
	stderr *lockedBuffer
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutine of exec.Cmd
// and the test reading it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits up to 10s for text to appear in the buffer.
func (b *lockedBuffer) waitFor(text string) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(b.String(), text) {
			return true
		}
	}
	return false
}

// mainEnv makes the test binary run Main instead of the tests (TestMain),
// so the command runs as its own process as main.go runs it.
const mainEnv = "DEVCA_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// devcaCommand returns the command line prefix of the devca command: the
// built project binary with "devca" when bin is set, else this test
// binary running Main.
func devcaCommand(bin string, args ...string) *exec.Cmd {
	if bin != "" {
		return exec.Command(bin, append([]string{"devca"}, args...)...)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	return cmd
}

// startCommand starts the devca command (see devcaCommand) and waits for
// its ready line.
func startCommand(t *testing.T, bin string, args ...string) *runningCommand {
	t.Helper()
	cmd := devcaCommand(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	rc := &runningCommand{cmd: cmd, lines: make(chan string, 100), stderr: &lockedBuffer{}}
	cmd.Stderr = rc.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Stopped by its own PID if the test did not stop it.
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			rc.lines <- sc.Text()
		}
		close(rc.lines)
	}()
	line := rc.next(t)
	if err := json.Unmarshal([]byte(line), &rc.ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	return rc
}

// next returns the next line of standard output.
func (rc *runningCommand) next(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-rc.lines:
		if !ok {
			t.Fatalf("devca stopped; stderr:\n%s", rc.stderr)
		}
		return line
	case <-time.After(30 * time.Second):
		t.Fatalf("no output from devca within 30s; stderr:\n%s", rc.stderr)
	}
	return ""
}

// nextEvent returns the next event line.
func (rc *runningCommand) nextEvent(t *testing.T) Event {
	t.Helper()
	line := rc.next(t)
	var ev Event
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatalf("event line %q: %v", line, err)
	}
	return ev
}

// stop sends SIGTERM and returns the exit code.
func (rc *runningCommand) stop(t *testing.T) int {
	t.Helper()
	if err := rc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rc.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = rc.cmd.Process.Kill()
		t.Fatalf("devca did not stop within 20s of SIGTERM")
	}
	return rc.cmd.ProcessState.ExitCode()
}

// openssl runs the OpenSSL client against the command's URL.
func (rc *runningCommand) openssl(t *testing.T, args ...string) opensslpeer.ClientResult {
	t.Helper()
	u, err := url.Parse(rc.ready.URL)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"-server", u.Host, "-path", strings.TrimPrefix(u.Path, "/"),
		"-msg_timeout", "20", "-total_timeout", "50", "-batch"}
	return opensslpeer.RunClient(t, append(base, args...)...)
}

// TestInteropCommand runs the devca command as its own process (Main, as
// main.go calls it): ready line, one event line per message, graceful stop
// on SIGTERM, and a restart on the same state directory that still knows
// (updates, revokes) the certificate issued before it.
func TestInteropCommand(t *testing.T) {
	bin := ""
	dir := filepath.Join(t.TempDir(), "state")
	work := t.TempDir()
	key1, _ := writeKey(t, work, "k1.pem")
	key2, _ := writeKey(t, work, "k2.pem")
	irCert, kurCert := filepath.Join(work, "ir.crt"), filepath.Join(work, "kur.crt")

	first := startCommand(t, bin, "-listen", "127.0.0.1:0", "-dir", dir)
	r := first.ready
	if !strings.HasPrefix(r.URL, "http://127.0.0.1:") || !strings.HasSuffix(r.URL, "/.well-known/cmp") ||
		r.Reference == "" || r.Secret == "" || !r.Development {
		t.Fatalf("ready line: %+v", r)
	}
	if caFile := readCert(t, r.CACertificateFile); !strings.Contains(caFile.Subject.String(), "Development CA") {
		t.Errorf("CA certificate subject %q does not say it is a development CA", caFile.Subject)
	}
	if !first.stderr.waitFor("DEVELOPMENT CA") {
		t.Errorf("start-up message does not say it is a development CA:\n%s", first.stderr)
	}
	res := first.openssl(t, "-cmd", "ir", "-ref", r.Reference, "-secret", "pass:"+r.Secret, "-recipient", opensslName(caSubject),
		"-newkey", key1, "-subject", "/CN=restart", "-certout", irCert)
	expect(t, res, 0, "received PKICONF")
	issued := readCert(t, irCert)
	ev := first.nextEvent(t)
	if ev.Op != "ir" || ev.Status != "accepted" || ev.Serial != issued.SerialNumber.String() || ev.Subject != "CN=restart" || len(ev.TransactionID) != 32 {
		t.Errorf("ir event: %+v", ev)
	}
	if ev := first.nextEvent(t); ev.Op != "certConf" || ev.Status != "confirmed" || ev.Serial != issued.SerialNumber.String() {
		t.Errorf("certConf event: %+v", ev)
	}
	if code := first.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM %d, want 0; stderr:\n%s", code, first.stderr)
	}

	second := startCommand(t, bin, "-listen", "127.0.0.1:0", "-dir", dir)
	if second.ready.Reference != r.Reference || second.ready.Secret != r.Secret {
		t.Error("the restarted CA has another PBM credential")
	}
	caAgain := readCert(t, second.ready.CACertificateFile)
	if !certificateEqual(caAgain, readCert(t, r.CACertificateFile)) {
		t.Error("the restarted CA has another CA certificate")
	}
	trust := []string{"-cert", irCert, "-key", key1, "-trusted", second.ready.CACertificateFile}
	res = second.openssl(t, append(trust, "-cmd", "kur", "-newkey", key2, "-certout", kurCert)...)
	expect(t, res, 0, "received KUP", "received PKICONF")
	if ev := second.nextEvent(t); ev.Op != "kur" || ev.Status != "accepted" {
		t.Errorf("kur event after restart: %+v", ev)
	}
	second.nextEvent(t) // certConf
	res = second.openssl(t, append(trust, "-cmd", "rr", "-oldcert", irCert, "-revreason", "5")...)
	expect(t, res, 0, "revocation accepted")
	if ev := second.nextEvent(t); ev.Op != "rr" || ev.Status != "accepted" || ev.Serial != issued.SerialNumber.String() {
		t.Errorf("rr event after restart: %+v", ev)
	}
	if code := second.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM %d, want 0", code)
	}

	// The record holds the issue, the update and the revocation.
	data, err := os.ReadFile(filepath.Join(dir, recordFile))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec storeRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("record line %q: %v", line, err)
		}
		kinds = append(kinds, rec.Kind+":"+rec.Op)
	}
	if got := strings.Join(kinds, " "); got != "issued:ir issued:kur revoked:" {
		t.Errorf("record %q, want issued:ir issued:kur revoked:", got)
	}
}

// TestInteropBinary runs the project binary built from main.go: `devca`
// starts, answers the OpenSSL client and stops on SIGTERM.
func TestInteropBinary(t *testing.T) {
	bin := buildBinary(t)
	work := t.TempDir()
	key, _ := writeKey(t, work, "k.pem")
	rc := startCommand(t, bin, "-listen", "127.0.0.1:0", "-dir", filepath.Join(work, "state"))
	res := rc.openssl(t, "-cmd", "genm", "-infotype", "caCerts", "-ref", rc.ready.Reference, "-secret", "pass:"+rc.ready.Secret,
		"-recipient", opensslName(caSubject))
	expect(t, res, 0, "received GENP")
	if ev := rc.nextEvent(t); ev.Op != "genm" || ev.Status != "accepted" {
		t.Errorf("genm event %+v", ev)
	}
	res = rc.openssl(t, "-cmd", "ir", "-ref", rc.ready.Reference, "-secret", "pass:"+rc.ready.Secret,
		"-recipient", opensslName(caSubject), "-newkey", key, "-subject", "/CN=binary", "-certout", filepath.Join(work, "c.crt"))
	expect(t, res, 0, "received PKICONF")
	if code := rc.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM %d, want 0", code)
	}
}

func TestCommandFlags(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "help documents files and faults", args: []string{"-h"}, code: 0, stderr: "certs.jsonl"},
		{name: "unknown fault", args: []string{"-fault", "explode"}, code: 2, stderr: `unknown fault "explode"`},
		{name: "stray argument", args: []string{"extra"}, code: 2, stderr: "unexpected arguments"},
		{name: "default validity above max", args: []string{"-dir", "DIR", "-max-validity", "1h", "-default-validity", "2h"}, code: 1, stderr: "exceeds max validity"},
		{name: "missing trust file", args: []string{"-trust", "/nonexistent/trust.pem"}, code: 2, stderr: "-trust"},
		{name: "client certificates without TLS", args: []string{"-tls-require-client-cert"}, code: 2, stderr: "needs -tls"},
		{name: "basic auth without password", args: []string{"-basic-auth", "user"}, code: 2, stderr: "user:password"},
		{name: "help documents emulations", args: []string{"-h"}, code: 0, stderr: "/v1/<mount>/roles/<role>/cmp"},
		{name: "unknown emulation", args: []string{"-emulate", "ejbca"}, code: 2, stderr: `unknown emulation "ejbca"`},
		{name: "mtg with a reference that is no UUID", args: []string{"-dir", "DIR", "-emulate", "mtg", "-reference", "client1"}, code: 1, stderr: "wants a UUID"},
		{name: "address in use", args: []string{"-dir", "DIR", "-listen", "LISTENER"}, code: 1, stderr: "address already in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				switch a {
				case "DIR":
					args[i] = t.TempDir()
				case "LISTENER":
					c := startCA(t, Config{})
					args[i] = c.hostPort()
				}
			}
			var stdout, stderr bytes.Buffer
			code := Main(args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", code, tc.code, tc.stderr, stderr.String())
			}
			if tc.code != 0 && stdout.Len() > 0 {
				t.Errorf("a failed start printed to stdout: %q", stdout.String())
			}
		})
	}
}
