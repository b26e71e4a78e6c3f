package memlimit

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	cases := []struct {
		name      string
		env       string // "" = unset
		setByUser int64  // what the runtime holds when GOMEMLIMIT is set
		want      int64
	}{
		{name: "unset gets the default", want: Default},
		{name: "user limit wins", env: "64MiB", setByUser: 64 << 20, want: 64 << 20},
		{name: "user may turn it off", env: "off", setByUser: math.MaxInt64, want: math.MaxInt64},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env == "" {
				t.Setenv("GOMEMLIMIT", "")
				// t.Setenv cannot unset; os.Unsetenv does, and t.Setenv above
				// restores the original value afterwards.
				if err := os.Unsetenv("GOMEMLIMIT"); err != nil {
					t.Fatal(err)
				}
				debug.SetMemoryLimit(math.MaxInt64)
			} else {
				t.Setenv("GOMEMLIMIT", tc.env)
				// The runtime reads GOMEMLIMIT at start only; emulate that.
				debug.SetMemoryLimit(tc.setByUser)
			}
			if got := Apply(); got != tc.want {
				t.Fatalf("Apply() = %d, want %d", got, tc.want)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.want {
				t.Fatalf("limit in force = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestApplyGCPercent(t *testing.T) {
	prevLimit := debug.SetMemoryLimit(-1)
	prevPercent := debug.SetGCPercent(100)
	t.Cleanup(func() {
		debug.SetMemoryLimit(prevLimit)
		debug.SetGCPercent(prevPercent)
	})
	t.Setenv("GOMEMLIMIT", "64MiB") // the limit is TestApply's; keep it out of the way
	t.Run("unset gets GCPercent", func(t *testing.T) {
		t.Setenv("GOGC", "")
		if err := os.Unsetenv("GOGC"); err != nil {
			t.Fatal(err)
		}
		debug.SetGCPercent(100)
		Apply()
		if got := debug.SetGCPercent(100); got != GCPercent {
			t.Fatalf("GC percent after Apply = %d, want %d", got, GCPercent)
		}
	})
	t.Run("user setting wins", func(t *testing.T) {
		t.Setenv("GOGC", "50")
		debug.SetGCPercent(50) // the runtime reads GOGC at start only; emulate that
		Apply()
		if got := debug.SetGCPercent(100); got != 50 {
			t.Fatalf("GC percent after Apply = %d, want the user's 50", got)
		}
	})
}
