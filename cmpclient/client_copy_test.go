package cmpclient

import (
	"sync"
	"testing"
)

// TestClientCopy: a Client holds no lock, so copying one is allowed (go
// vet's copylocks check passes over the copies below); a copy of a used
// Client shares its MAC key cache and works concurrently with the
// original, and a copy of an unused Client gets a cache of its own.
func TestClientCopy(t *testing.T) {
	pki := newTestPKI(t)
	orig := startResponder(t, &responder{pki: pki})
	unusedCopy := *orig
	if _, err := orig.Enroll(testContext(t), certRequest(t, "original")); err != nil {
		t.Fatal(err)
	}
	if orig.mac == nil {
		t.Fatal("a MAC-protected enrollment left no MAC state")
	}
	usedCopy := *orig
	tests := []struct {
		name       string
		c          *Client
		sharesKeys bool
	}{
		{"copy made before the first call", &unusedCopy, false},
		{"copy made after the first call", &usedCopy, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, c := range []*Client{orig, tc.c} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = c.Enroll(testContext(t), certRequest(t, "concurrent"))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("enrollment %d: %v", i, err)
				}
			}
			if shares := tc.c.mac == orig.mac; shares != tc.sharesKeys {
				t.Errorf("the copy shares the MAC state: %v, want %v", shares, tc.sharesKeys)
			}
		})
	}
}
