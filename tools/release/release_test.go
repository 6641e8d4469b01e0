// Package release tests what scripts/release.sh ships, as a user gets it:
// the .deb's control fields, file list and maintainer scripts, the binaries
// run from the unpacked package, the archive and its checksum; and that
// every build says which commit it comes from.
package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hms-toolkit/hms/internal/testenv"
)

// binaries are the five programs every artefact holds.
var binaries = []string{"hms-factors", "hms-sign", "hms-send", "hms-recv", "hms-store"}

const testVersion = "0.0.0-test"

// need fails the test when a program it runs is missing.
func need(t *testing.T, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is needed by this test and is missing: %v", p, err)
		}
	}
}

// run runs a command and returns its stdout; it fails the test on error.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// release runs scripts/release.sh for linux/amd64 only (the four platforms
// are the script's job; the test keeps to one) and returns its artefacts.
func release(t *testing.T) (deb, archive, sums string) {
	t.Helper()
	need(t, "bash", "git", "go", "dpkg-deb", "sha256sum", "tar")
	out := t.TempDir()
	stdout := run(t, testenv.Root(t), "bash", "scripts/release.sh",
		"--platforms", "linux/amd64", "--allow-dirty", "--out", out, testVersion)
	for _, path := range strings.Fields(stdout) {
		switch {
		case strings.HasSuffix(path, ".deb"):
			deb = path
		case strings.HasSuffix(path, ".tar.gz"):
			archive = path
		case filepath.Base(path) == "SHA256SUMS":
			sums = path
		}
	}
	if filepath.Base(deb) != "hms_0.0.0~test_amd64.deb" || filepath.Base(archive) != "hms-0.0.0-test-linux-amd64.tar.gz" || sums == "" {
		t.Fatalf("release.sh printed:\n%s", stdout)
	}
	return deb, archive, sums
}

func TestRelease(t *testing.T) {
	deb, archive, sums := release(t)
	t.Run("control", func(t *testing.T) { checkControl(t, deb) })
	t.Run("files", func(t *testing.T) { checkDebFiles(t, deb) })
	t.Run("binaries", func(t *testing.T) { checkDebBinaries(t, deb) })
	t.Run("maintainer scripts", func(t *testing.T) { checkMaintainerScripts(t, deb) })
	t.Run("archive", func(t *testing.T) { checkArchive(t, archive) })
	t.Run("SHA256SUMS", func(t *testing.T) {
		got := run(t, filepath.Dir(sums), "sha256sum", "-c", "--strict", "SHA256SUMS")
		if strings.Count(got, ": OK\n") != 2 {
			t.Errorf("sha256sum -c:\n%s", got)
		}
	})
}

func checkControl(t *testing.T, deb string) {
	for field, want := range map[string]string{
		"Package":      "hms",
		"Version":      "0.0.0~test",
		"Architecture": "amd64",
		"Depends":      "adduser",
		"Section":      "net",
		"Priority":     "optional",
		"Homepage":     "https://github.com/hms-toolkit/hms",
	} {
		if got := strings.TrimSpace(run(t, "", "dpkg-deb", "--field", deb, field)); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	for _, field := range []string{"Maintainer", "Description", "Installed-Size"} {
		if strings.TrimSpace(run(t, "", "dpkg-deb", "--field", deb, field)) == "" {
			t.Errorf("no %s", field)
		}
	}
	// The environment files, and nothing else, are conffiles.
	control := t.TempDir()
	run(t, "", "dpkg-deb", "--control", deb, control)
	conffiles, _ := os.ReadFile(filepath.Join(control, "conffiles"))
	if got, want := strings.Fields(string(conffiles)), repoFiles(t, "scripts/systemd/*.env", "/etc/hms/"); !slices.Equal(got, want) {
		t.Errorf("conffiles %q, want %q", got, want)
	}
}

// repoFiles returns the base names of the repository's files matching
// pattern, under dir.
func repoFiles(t *testing.T, pattern, dir string) []string {
	matches, err := filepath.Glob(filepath.Join(testenv.Root(t), pattern))
	if err != nil || len(matches) == 0 {
		t.Fatalf("%s: %v %v", pattern, matches, err)
	}
	var out []string
	for _, m := range matches {
		out = append(out, dir+filepath.Base(m))
	}
	slices.Sort(out)
	return out
}

// debFiles returns the package's regular files with their modes.
func debFiles(t *testing.T, deb string) map[string]string {
	files := map[string]string{}
	for _, line := range strings.Split(run(t, "", "dpkg-deb", "--contents", deb), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasPrefix(f[0], "-") {
			continue
		}
		if f[1] != "root/root" {
			t.Errorf("%s is owned by %s", f[5], f[1])
		}
		files[strings.TrimPrefix(f[5], ".")] = f[0]
	}
	return files
}

func checkDebFiles(t *testing.T, deb string) {
	files := debFiles(t, deb)
	want := map[string]string{"/usr/share/man/man7/hms.7.gz": "-rw-r--r--"}
	for _, b := range binaries {
		want["/usr/bin/"+b] = "-rwxr-xr-x"
		want["/usr/share/man/man1/"+b+".1.gz"] = "-rw-r--r--"
		want["/usr/share/bash-completion/completions/"+b] = "-rw-r--r--"
		want["/usr/share/zsh/vendor-completions/_"+b] = "-rw-r--r--"
		want["/usr/share/fish/vendor_completions.d/"+b+".fish"] = "-rw-r--r--"
	}
	for _, u := range repoFiles(t, "scripts/systemd/*.service", "/usr/lib/systemd/system/") {
		want[u] = "-rw-r--r--"
	}
	for _, e := range repoFiles(t, "scripts/systemd/*.env", "/etc/hms/") {
		want[e] = "-rw-r-----"
	}
	for _, s := range repoFiles(t, "scripts/cluster/*.sh", "/usr/lib/hms/cluster/") {
		want[s] = "-rwxr-xr-x"
	}
	for path, mode := range want {
		if files[path] != mode {
			t.Errorf("%s: mode %q, want %q", path, files[path], mode)
		}
	}
	for path := range files {
		if !strings.HasPrefix(path, "/usr/") && !strings.HasPrefix(path, "/etc/hms/") {
			t.Errorf("%s: outside /usr and /etc/hms", path)
		}
	}
}

// checkDebBinaries unpacks the package as dpkg would, runs every binary's
// --version, and checks that the units run what the package holds.
func checkDebBinaries(t *testing.T, deb string) {
	root := t.TempDir()
	run(t, "", "dpkg-deb", "-x", deb, root)
	for _, b := range binaries {
		got := run(t, "", filepath.Join(root, "usr/bin", b), "--version")
		if !regexp.MustCompile(`^` + b + ` 0\.0\.0-test \(.*go1\.[0-9]+.*\)\n$`).MatchString(got) {
			t.Errorf("%s --version: %q", b, got)
		}
	}
	units, _ := filepath.Glob(filepath.Join(root, "usr/lib/systemd/system/*.service"))
	execPath := regexp.MustCompile(`(?:^|[\s"'=])(/usr/[^\s"';]+)`)
	for _, u := range units {
		text, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(text), "/usr/local/") {
			t.Errorf("%s names /usr/local, which the package does not use", filepath.Base(u))
		}
		for _, line := range strings.Split(string(text), "\n") {
			if !strings.HasPrefix(line, "Exec") {
				continue
			}
			for _, m := range execPath.FindAllStringSubmatch(line, -1) {
				if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
					t.Errorf("%s runs %s, which the package does not hold", filepath.Base(u), m[1])
				}
			}
		}
	}
}

// checkMaintainerScripts: installing creates the hms system user and
// starts nothing; the scripts are valid sh.
func checkMaintainerScripts(t *testing.T, deb string) {
	control := t.TempDir()
	run(t, "", "dpkg-deb", "--control", deb, control)
	starts := regexp.MustCompile(`systemctl[^\n]*\s(start|enable|restart|reload-or-restart)\s|deb-systemd-invoke\s+start`)
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		path := filepath.Join(control, s)
		run(t, "", "sh", "-n", path)
		text, _ := os.ReadFile(path)
		if starts.Match(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAll(text, nil)) {
			t.Errorf("%s starts or enables a service:\n%s", s, text)
		}
	}
	calls := fakeInstall(t, filepath.Join(control, "postinst"), "configure", "")
	if !regexp.MustCompile(`(?m)^adduser --system .*\bhms$`).MatchString(calls) {
		t.Errorf("postinst configure did not create the hms system user; it ran:\n%s", calls)
	}
	if strings.Contains(calls, "try-restart") {
		t.Errorf("a first install restarts services:\n%s", calls)
	}
}

// fakeInstall runs a maintainer script with the system commands it may
// call replaced by stubs that log their arguments (getent finds no user),
// and returns the log.
func fakeInstall(t *testing.T, script string, args ...string) string {
	bin := t.TempDir()
	log := filepath.Join(bin, "calls.log")
	for _, name := range []string{"adduser", "getent", "dpkg-statoverride", "systemctl"} {
		stub := "#!/bin/sh\necho \"" + name + " $*\" >>" + log + "\n"
		if name == "getent" || name == "dpkg-statoverride" {
			stub += "exit 2\n"
		}
		if err := os.WriteFile(filepath.Join(bin, name), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+bin+":/usr/bin:/bin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %q: %v\n%s", filepath.Base(script), args, err, out)
	}
	calls, _ := os.ReadFile(log)
	return string(calls)
}

// checkArchive: the tarball, as tar(1) reads it, holds the binaries in
// bin/, the README, the man pages and the completions, under one top
// directory, owned by root.
func checkArchive(t *testing.T, archive string) {
	got := map[string]string{}
	for _, line := range strings.Split(run(t, "", "tar", "--list", "--verbose", "--numeric-owner", "-zf", archive), "\n") {
		if f := strings.Fields(line); len(f) == 6 {
			got[f[5]] = f[0]
			if f[1] != "0/0" {
				t.Errorf("%s is owned by %s", f[5], f[1])
			}
		}
	}
	top := "hms-" + testVersion + "-linux-amd64/"
	want := map[string]string{top + "README.md": "-rw-r--r--", top + "share/man/man7/hms.7": "-rw-r--r--"}
	for _, b := range binaries {
		want[top+"bin/"+b] = "-rwxr-xr-x"
		want[top+"share/man/man1/"+b+".1"] = "-rw-r--r--"
		want[top+"share/bash-completion/completions/"+b] = "-rw-r--r--"
		want[top+"share/zsh/site-functions/_"+b] = "-rw-r--r--"
		want[top+"share/fish/vendor_completions.d/"+b+".fish"] = "-rw-r--r--"
	}
	for name, mode := range want {
		if got[name] != mode {
			t.Errorf("%s: mode %q, want %q", name, got[name], mode)
		}
	}
	for name := range got {
		if !strings.HasPrefix(name, top) {
			t.Errorf("%s is outside %s", name, top)
		}
	}
}
