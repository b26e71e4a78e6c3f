package opensslpeer

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// netnsEnv marks a test process started by InNetNS. Its value is the
// network namespace of the parent (readlink /proc/self/ns/net), so the child
// can check that it really runs in a different one.
const netnsEnv = "OPENSSLPEER_PARENT_NETNS"

// childTimeout bounds the re-executed test process.
const childTimeout = 5 * time.Minute

// InNetNS reports whether the calling test runs in a private network
// namespace, where StartMock may run. In the ordinary test process it runs
// this test again in a child process under `unshare -n` with loopback up,
// streams the child's output to the test log, fails the test if the child
// failed (or skips it if the child skipped), and returns false: the caller
// then returns at once. See the package documentation for the pattern.
//
// It skips the test, loudly, when `unshare`, `ip` or `openssl` are missing or
// the process may not create namespaces (not root).
func InNetNS(t *testing.T) bool {
	t.Helper()
	if parent, ok := os.LookupEnv(netnsEnv); ok {
		self, err := os.Readlink("/proc/self/ns/net")
		if err != nil {
			t.Fatalf("opensslpeer: cannot read own network namespace: %v", err)
		}
		if self == parent {
			t.Fatalf("opensslpeer: %s is set but this process shares the parent's network namespace %s", netnsEnv, self)
		}
		return true
	}
	if reason := netnsUnavailable(); reason != "" {
		t.Skipf("SKIPPED: OpenSSL mock-server interop test needs a private network namespace: %s", reason)
	}
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatalf("opensslpeer: cannot read own network namespace: %v", err)
	}

	args := []string{"-n", "sh", "-c", `ip link set lo up && exec "$@"`, "sh",
		os.Args[0], "-test.run", runPattern(t.Name(), parentRunFlag()), "-test.v", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append(os.Environ(), netnsEnv+"="+self)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("opensslpeer: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("opensslpeer: start test in network namespace: %v", err)
	}

	// Stream the child's lines into the log while it runs (t.Log prints at
	// once under -v) and look for the child's verdict on this test.
	var passed, skipped bool
	var skipReason strings.Builder
	passLine := "--- PASS: " + t.Name() + " ("
	skipLine := "--- SKIP: " + t.Name() + " ("
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		t.Log("netns| " + line)
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, passLine):
			passed = true
		case strings.HasPrefix(trimmed, skipLine):
			skipped = true
		case skipped && skipReason.Len() < 1000:
			skipReason.WriteString(trimmed + " ")
		}
	}
	err = cmd.Wait()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("opensslpeer: test in network namespace exceeded %v", childTimeout)
	case err != nil:
		t.Fatalf("opensslpeer: test in network namespace failed: %v", err)
	case skipped:
		t.Skipf("skipped in network namespace: %s", skipReason.String())
	case !passed:
		t.Fatalf("opensslpeer: test in network namespace did not run (no %q line in its output)", passLine)
	}
	return false
}

// runPattern turns a test name such as "TestMock/pbm_sha1" into a -test.run
// pattern that matches exactly that test: each level anchored and quoted.
// Levels of the parent's own -test.run pattern below the test's depth are
// kept, so `go test -run 'TestMock/kur'` runs only the kur subtests in the
// namespace too.
func runPattern(name, parentRun string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	if parentRun != "" {
		if levels := splitRunPattern(parentRun); len(levels) > len(parts) {
			parts = append(parts, levels[len(parts):]...)
		}
	}
	return strings.Join(parts, "/")
}

// splitRunPattern splits a -test.run pattern into its per-level parts at
// slashes outside brackets and parentheses, as the testing package does.
func splitRunPattern(pattern string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '[', '(':
			depth++
		case ']', ')':
			if depth > 0 {
				depth--
			}
		case '\\':
			i++
		case '/':
			if depth == 0 {
				parts = append(parts, pattern[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, pattern[start:])
}

// parentRunFlag is this process's -test.run value, "" when unset.
func parentRunFlag() string {
	if f := flag.Lookup("test.run"); f != nil {
		return f.Value.String()
	}
	return ""
}

var (
	netnsOnce   sync.Once
	netnsReason string
)

// netnsUnavailable returns why a private network namespace with OpenSSL
// cannot be used here, or "" when it can. It tries once per process.
func netnsUnavailable() string {
	netnsOnce.Do(func() {
		for _, tool := range []string{"unshare", "ip", "openssl", "timeout"} {
			if _, err := exec.LookPath(tool); err != nil {
				netnsReason = fmt.Sprintf("%s not found on PATH", tool)
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "unshare", "-n", "sh", "-c", "ip link set lo up").CombinedOutput()
		if err != nil {
			netnsReason = fmt.Sprintf("`unshare -n` failed (needs root or CAP_SYS_ADMIN): %v: %s", err, bytes.TrimSpace(out))
		}
	})
	return netnsReason
}
