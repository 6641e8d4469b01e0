package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tree makes DIR/hms-x with files of the given modes, touched at mtime.
func tree(t *testing.T, mtime time.Time, fileMode os.FileMode) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hms-x")
	for name, mode := range map[string]os.FileMode{"bin/hms-a": 0o700 | fileMode, "share/man/man1/hms-a.1": fileMode, "README.md": fileMode} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("content of "+name+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestArchivesAreReproducible: the same files give the same bytes whatever
// their times and permissions on disk; entries are sorted, owned by 0:0,
// timed at SOURCE_DATE_EPOCH, 0755 or 0644.
func TestArchivesAreReproducible(t *testing.T) {
	epoch := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, ext := range []string{".tar.gz", ".zip"} {
		var outs [2][]byte
		for i, mt := range []time.Time{time.Now(), time.Now().Add(-48 * time.Hour)} {
			dir := tree(t, mt, []os.FileMode{0o600, 0o664}[i])
			out := filepath.Join(t.TempDir(), "a"+ext)
			t.Setenv("SOURCE_DATE_EPOCH", "1796112000")
			if err := run([]string{"archive", "-o", out, dir}); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			outs[i] = b
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%s: two archives of the same files differ", ext)
		}
		got := listArchive(t, ext, outs[0], epoch)
		want := "hms-x/ 755|hms-x/README.md 644|hms-x/bin/ 755|hms-x/bin/hms-a 755|hms-x/share/ 755|" +
			"hms-x/share/man/ 755|hms-x/share/man/man1/ 755|hms-x/share/man/man1/hms-a.1 644"
		if got != want {
			t.Errorf("%s entries:\n%s\nwant\n%s", ext, got, want)
		}
	}
}

// listArchive returns "name mode|…" and checks every entry's time and owner.
func listArchive(t *testing.T, ext string, b []byte, mtime time.Time) string {
	t.Helper()
	var list []string
	check := func(name string, mode os.FileMode, mt time.Time, uid, gid int) {
		if !mt.Equal(mtime) || uid != 0 || gid != 0 {
			t.Errorf("%s: time %v owner %d:%d", name, mt, uid, gid)
		}
		list = append(list, name+" "+strings.TrimPrefix((mode&0o777).String(), "-")+"")
	}
	if ext == ".zip" {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			check(f.Name, f.Mode(), f.Modified, 0, 0)
		}
	} else {
		gz, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			check(h.Name, os.FileMode(h.Mode), h.ModTime, h.Uid, h.Gid)
		}
	}
	for i, l := range list {
		name, mode, _ := strings.Cut(l, " ")
		list[i] = name + " " + map[string]string{"rwxr-xr-x": "755", "rw-r--r--": "644"}[mode]
	}
	return strings.Join(list, "|")
}

// TestSums: SHA256SUMS lists the files by name, as 'sha256sum -c' checks them.
func TestSums(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.deb", "a.tar.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "SHA256SUMS")
	if err := run([]string{"sums", "-o", out, filepath.Join(dir, "b.deb"), filepath.Join(dir, "a.tar.gz")}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	// sha256 of the bytes "a.tar.gz" and "b.deb", as sha256sum(1) prints them
	want := "0a67bba7da46793c9f1908a7eec3d06a11ba7bc00bf749c31bb134f4f45ebcad  a.tar.gz\n"
	if !strings.HasPrefix(string(got), want) || strings.Count(string(got), "\n") != 2 || !strings.HasSuffix(string(got), "  b.deb\n") {
		t.Errorf("SHA256SUMS:\n%s", got)
	}
	check := exec.Command("sha256sum", "-c", "--strict", "SHA256SUMS")
	check.Dir = dir
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
}
