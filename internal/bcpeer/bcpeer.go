package bcpeer

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// JarDir is where Debian's libbcprov-java, libbcpkix-java and
// libbcutil-java put the Bouncy Castle jars.
const JarDir = "/usr/share/java"

// Jars are the Bouncy Castle jars the peers need: the provider, PKIX (CMP,
// CRMF, PKCS #10) and the ASN.1 utilities PKIX depends on.
var Jars = []string{"bcprov.jar", "bcpkix.jar", "bcutil.jar"}

// RunTimeout bounds one run of a Java peer.
const RunTimeout = 45 * time.Second

// Java is a located Java toolchain with the Bouncy Castle class path.
type Java struct {
	Java, Javac string
	// ClassPath holds the Bouncy Castle jars.
	ClassPath string
}

// Find locates java, javac and the Bouncy Castle jars. When something is
// missing it skips the test naming what, or fails it under CI.
func Find(t testing.TB) *Java {
	t.Helper()
	j, missing := find(exec.LookPath, JarDir)
	if len(missing) > 0 {
		unavailable(t, "Bouncy Castle interop test needs "+strings.Join(missing, ", "))
	}
	return j
}

// Keytool locates the JDK's keytool, for tests that read what Java reads
// (a PKCS#12 keystore); missing, it skips the test, or fails it under CI.
func Keytool(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("keytool")
	if err != nil {
		unavailable(t, "Java keystore test needs `keytool` on PATH (package default-jdk-headless)")
	}
	return p
}

// unavailable skips a test that needs what .ci/run installs, naming it
// (msg), or fails it under CI (environment variable CI set), where a
// missing tool is a broken install rather than a developer's machine.
func unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; .ci/run installs them, so under CI this is a failure", msg)
	}
	t.Skipf("SKIPPED: %s", msg)
}

// find locates java and javac with lookPath and the jars in jarDir, and
// names what is missing.
func find(lookPath func(string) (string, error), jarDir string) (*Java, []string) {
	var missing []string
	j := &Java{}
	var err error
	if j.Java, err = lookPath("java"); err != nil {
		missing = append(missing, "`java` on PATH (package default-jdk-headless)")
	}
	if j.Javac, err = lookPath("javac"); err != nil {
		missing = append(missing, "`javac` on PATH (package default-jdk-headless)")
	}
	var cp []string
	for _, jar := range Jars {
		p := filepath.Join(jarDir, jar)
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p+" (packages libbcprov-java libbcpkix-java libbcutil-java)")
			continue
		}
		cp = append(cp, p)
	}
	j.ClassPath = strings.Join(cp, string(os.PathListSeparator))
	return j, missing
}

// Compile compiles the Java sources (paths) into a new temporary directory
// and returns that directory.
func (j *Java) Compile(t testing.TB, sources ...string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), RunTimeout)
	defer cancel()
	args := append([]string{"-nowarn", "-encoding", "UTF-8", "-d", dir, "-cp", j.ClassPath}, sources...)
	out, err := exec.CommandContext(ctx, j.Javac, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("bcpeer: javac %s: %v\n%s", strings.Join(sources, " "), err, out)
	}
	return dir
}

// command returns the java command running class main from classDir.
func (j *Java) command(ctx context.Context, classDir, main string, args ...string) *exec.Cmd {
	cp := classDir + string(os.PathListSeparator) + j.ClassPath
	return exec.CommandContext(ctx, j.Java, append([]string{"-cp", cp, main}, args...)...)
}

// Result is one case a Java peer reported: a line "CASE <name> PASS
// [detail]" or "CASE <name> FAIL <reason>".
type Result struct {
	Name   string
	Pass   bool
	Detail string
}

// Field returns the value of key=value in the detail, or "".
func (r Result) Field(key string) string {
	for _, f := range strings.Fields(r.Detail) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// RunCases runs class main from classDir to completion (bounded by
// RunTimeout) and returns the cases it reported, by name, with its stderr.
func (j *Java) RunCases(t testing.TB, classDir, main string, args ...string) (map[string]Result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), RunTimeout)
	defer cancel()
	cmd := j.command(ctx, classDir, main, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("bcpeer: %s did not finish within %v; stdout:\n%s\nstderr:\n%s", main, RunTimeout, stdout.String(), stderr.String())
	case err != nil && !errors.As(err, &exit):
		t.Fatalf("bcpeer: run %s: %v", main, err)
	}
	return ParseCases(stdout.String()), stderr.String()
}

// ParseCases reads the CASE lines of a peer's output.
func ParseCases(out string) map[string]Result {
	res := map[string]Result{}
	for line := range strings.Lines(out) {
		f := strings.SplitN(strings.TrimSpace(line), " ", 4)
		if len(f) < 3 || f[0] != "CASE" {
			continue
		}
		r := Result{Name: f[1], Pass: f[2] == "PASS"}
		if len(f) == 4 {
			r.Detail = f[3]
		}
		res[r.Name] = r
	}
	return res
}

// Server is a running Java CMP server.
type Server struct {
	// URL is its CMP endpoint on 127.0.0.1.
	URL    string
	cmd    *exec.Cmd
	stderr *syncBuffer
}

// Stderr is what the server wrote to standard error so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// Logged reports whether the server wrote text to standard error, waiting
// up to a few seconds for it: a line written before an answer may reach the
// test after the answer does.
func (s *Server) Logged(text string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.Stderr(), text) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// StartServer starts class main from classDir, which must print "LISTEN
// <url>" on its first line of standard output once it accepts requests and
// run until its standard input closes. When the test ends its standard
// input is closed and its process killed; RunTimeout bounds it in any case.
func (j *Java) StartServer(t testing.TB, classDir, main string, args ...string) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), RunTimeout)
	cmd := j.command(ctx, classDir, main, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatalf("bcpeer: %s stdout: %v", main, err)
	}
	// The server runs until its standard input closes.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatalf("bcpeer: %s stdin: %v", main, err)
	}
	s := &Server{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("bcpeer: start %s: %v", main, err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cancel()
	})
	lines := bufio.NewScanner(stdout)
	ready := make(chan string, 1)
	go func() {
		defer close(ready)
		if lines.Scan() {
			ready <- lines.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-ready:
		u, found := strings.CutPrefix(line, "LISTEN ")
		if !ok || !found {
			t.Fatalf("bcpeer: %s did not start: first line %q; stderr:\n%s", main, line, s.Stderr())
		}
		s.URL = u
	case <-time.After(RunTimeout):
		t.Fatalf("bcpeer: %s did not start within %v; stderr:\n%s", main, RunTimeout, s.Stderr())
	}
	return s
}

// syncBuffer is a strings.Builder safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
