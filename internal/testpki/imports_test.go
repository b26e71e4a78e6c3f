package testpki

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNotInTheBinary: no package the provider binary is built from
// imports this one, directly or not.
func TestNotInTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	self, err := exec.Command("go", "list", ".").Output()
	if err != nil {
		t.Fatalf("go list .: %v", err)
	}
	out, err := exec.Command("go", "list", "-deps", "../..").Output()
	if err != nil {
		t.Fatalf("go list -deps of the main package: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages; the check would prove nothing", len(deps))
	}
	for _, dep := range deps {
		if dep == strings.TrimSpace(string(self)) {
			t.Errorf("the provider binary depends on %s, a test-only package", dep)
		}
	}
}
