package bcpeer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindNamesWhatIsMissing(t *testing.T) {
	none := func(string) (string, error) { return "", errors.New("not found") }
	_, missing := find(none, t.TempDir())
	got := strings.Join(missing, "\n")
	for _, want := range []string{"`java`", "`javac`", "bcprov.jar", "bcpkix.jar", "bcutil.jar", "libbcutil-java", "default-jdk-headless"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing list does not name %s:\n%s", want, got)
		}
	}

	dir := t.TempDir()
	for _, jar := range Jars {
		if err := os.WriteFile(filepath.Join(dir, jar), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found := func(name string) (string, error) { return "/opt/jdk/bin/" + name, nil }
	j, missing := find(found, dir)
	if len(missing) != 0 {
		t.Fatalf("missing %v with everything present", missing)
	}
	if j.Java != "/opt/jdk/bin/java" || j.Javac != "/opt/jdk/bin/javac" {
		t.Errorf("java %q javac %q", j.Java, j.Javac)
	}
	if n := len(filepath.SplitList(j.ClassPath)); n != len(Jars) {
		t.Errorf("class path %q has %d entries, want %d", j.ClassPath, n, len(Jars))
	}
}
