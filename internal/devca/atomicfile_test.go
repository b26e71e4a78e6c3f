package devca

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileAtomic: the file ends up with the new content and mode, an
// existing one is replaced, and no temporary file is left beside it.
func TestWriteFileAtomic(t *testing.T) {
	cases := []struct {
		name     string
		existing string
		perm     os.FileMode
	}{
		{name: "new file", perm: 0o600},
		{name: "replaces an existing file", existing: "old content that is longer", perm: 0o644},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if tc.existing != "" {
				if err := os.WriteFile(path, []byte(tc.existing), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := writeFileAtomic(path, []byte("new"), tc.perm); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != "new" {
				t.Fatalf("content %q (%v), want \"new\"", got, err)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != tc.perm {
				t.Errorf("mode %v (%v), want %v", fi.Mode().Perm(), err, tc.perm)
			}
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) != 1 {
				t.Errorf("directory holds %d entries (%v), want only the file", len(entries), err)
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		if err := writeFileAtomic(filepath.Join(t.TempDir(), "no", "such"), []byte("x"), 0o600); err == nil {
			t.Error("no error for a directory that does not exist")
		}
	})
}
