package provider

import (
	"context"
	"testing"
	"time"
)

func TestOperationContext(t *testing.T) {
	const grace = 100 * time.Millisecond
	cases := []struct {
		name     string
		timeout  time.Duration
		stop     bool          // the parent context is cancelled (Ctrl-C)
		aliveAt  time.Duration // the operation still runs then
		deadAt   time.Duration // and has ended by then
		wantLive bool          // still running at the end of the test (no stop, long timeout)
	}{
		{name: "stop leaves a grace period", timeout: time.Minute, stop: true, aliveAt: 30 * time.Millisecond, deadAt: 300 * time.Millisecond},
		{name: "timeout ends it", timeout: 50 * time.Millisecond, aliveAt: 0, deadAt: 200 * time.Millisecond},
		{name: "nothing ends it early", timeout: time.Minute, aliveAt: 150 * time.Millisecond, wantLive: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancelParent := context.WithCancel(context.Background())
			defer cancelParent()
			ctx, cancel := operationContext(parent, tc.timeout, grace)
			defer cancel()
			start := time.Now()
			if tc.stop {
				cancelParent()
			}
			time.Sleep(tc.aliveAt - time.Since(start))
			if ctx.Err() != nil {
				t.Fatalf("operation ended after %s: %v", time.Since(start), ctx.Err())
			}
			if tc.wantLive {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(tc.deadAt):
				t.Fatalf("operation still running after %s", tc.deadAt)
			}
		})
	}
}

// TestClockStopGrace: the grace a resource's clock gives an interrupted
// operation is its own, or the default when unset.
func TestClockStopGrace(t *testing.T) {
	t.Parallel()
	if got := (clock{}).stopGrace(); got != defaultStopGrace {
		t.Errorf("zero clock: grace %s, want %s", got, defaultStopGrace)
	}
	if got := (clock{StopGrace: time.Second}).stopGrace(); got != time.Second {
		t.Errorf("grace %s, want 1s", got)
	}
}
