package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hms-toolkit/hms/internal/testenv"
)

// TestBuildsTellTheirCommit: a plain 'go build' in a git clone records the
// commit and its date, which --version prints (with +dirty once the tree
// has changes), and a release build adds the version it was stamped with.
// It builds hms-factors (the smallest binary) in a clone of HEAD.
func TestBuildsTellTheirCommit(t *testing.T) {
	need(t, "git", "go")
	root := testenv.Root(t)
	clone := filepath.Join(t.TempDir(), "hms")
	run(t, "", "git", "clone", "--quiet", "--shared", "--no-checkout", root, clone)
	head := strings.TrimSpace(run(t, root, "git", "rev-parse", "HEAD"))
	run(t, clone, "git", "checkout", "--quiet", "--detach", head)
	epoch, err := strconv.ParseInt(strings.TrimSpace(run(t, clone, "git", "log", "-1", "--format=%ct")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Unix(epoch, 0).UTC().Format("2006-01-02")
	goVersion := strings.TrimSpace(run(t, clone, "go", "env", "GOVERSION"))

	// Go 1.24+ also gives the main module a pseudo-version from the VCS;
	// the commit says more, so an untagged build is "devel".
	plain := "hms-factors devel (" + head[:7] + ", " + date + ", " + goVersion + ")\n"
	if got := buildVersion(t, clone); got != plain {
		t.Errorf("plain build: %q, want %q", got, plain)
	}
	stamp := "-ldflags=-X github.com/hms-toolkit/hms/pkg/version.release=1.2.3"
	want := "hms-factors 1.2.3 (" + head[:7] + ", " + date + ", " + goVersion + ")\n"
	if got := buildVersion(t, clone, stamp); got != want {
		t.Errorf("release build: %q, want %q", got, want)
	}
	if err := os.WriteFile(filepath.Join(clone, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want = "hms-factors devel (" + head[:7] + "+dirty, " + date + ", " + goVersion + ")\n"
	if got := buildVersion(t, clone); got != want {
		t.Errorf("build of a modified tree: %q, want %q", got, want)
	}
}

// buildVersion builds hms-factors in dir with Go's default VCS stamping
// (-buildvcs=auto, whatever this machine's go env says) and returns what
// its --version prints.
func buildVersion(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hms-factors")
	build := exec.Command("go", append(append([]string{"build", "-o", bin}, flags...), "./cmd/hms-factors")...)
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return run(t, "", bin, "--version")
}
