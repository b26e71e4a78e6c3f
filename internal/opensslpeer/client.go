package opensslpeer

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"
)

// ClientTimeout bounds one RunClient call.
const ClientTimeout = 60 * time.Second

// ClientResult is the outcome of one `openssl cmp` client run.
type ClientResult struct {
	Stdout, Stderr string
	ExitCode       int
}

// RunClient runs `openssl cmp args...` as a CMP client, bounded by
// ClientTimeout, and returns its output and exit code; a non-zero exit is
// not a test failure (fault tests expect it), failing to run at all is.
// It skips the test, loudly, when openssl is not installed.
//
// Pass -msg_timeout/-total_timeout too when the peer may hang, and never
// put secrets other than test credentials on the command line: they show in
// the process list.
func RunClient(t testing.TB, args ...string) ClientResult {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skipf("SKIPPED: OpenSSL interop test needs `openssl` on PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ClientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", append([]string{"cmp"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := ClientResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("opensslpeer: openssl cmp client did not finish within %v; stderr:\n%s", ClientTimeout, res.Stderr)
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("opensslpeer: run openssl cmp client: %v", err)
	}
	return res
}
