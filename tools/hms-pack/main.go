// Command hms-pack writes the release archives of hms reproducibly, and
// their checksums: two runs on the same files give the same bytes.
//
//	hms-pack archive -o hms-0.3.0-linux-amd64.tar.gz DIR   # or .zip
//	hms-pack sums -o SHA256SUMS FILE...
//
// An archive holds DIR's tree under DIR's base name, entries sorted by
// path, every time set to SOURCE_DATE_EPOCH (or -mtime), owned by root
// (0:0), with mode 0755 for directories and executables and 0644 for the
// rest, whatever the umask and the checkout's times were. It is written
// with Go's archive/tar, compress/gzip and archive/zip rather than tar(1)
// and zip(1), whose options for this differ between GNU, BSD and macOS.
package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hms-pack: error:", err)
		os.Exit(2)
	}
}

const usage = `usage: hms-pack archive [-mtime EPOCH] -o FILE.tar.gz|FILE.zip DIR
       hms-pack sums -o SHA256SUMS FILE...`

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fset := flag.NewFlagSet("hms-pack "+args[0], flag.ContinueOnError)
	out := fset.String("o", "", "write to `FILE`")
	mtime := fset.String("mtime", os.Getenv("SOURCE_DATE_EPOCH"), "time of every entry, in seconds since 1970 (default: SOURCE_DATE_EPOCH)")
	if err := fset.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-o FILE is required\n" + usage)
	}
	switch {
	case args[0] == "archive" && fset.NArg() == 1:
		sec, err := strconv.ParseInt(*mtime, 10, 64)
		if err != nil {
			return fmt.Errorf("-mtime or SOURCE_DATE_EPOCH: %q is not a number of seconds", *mtime)
		}
		return archive(*out, fset.Arg(0), time.Unix(sec, 0).UTC())
	case args[0] == "sums" && fset.NArg() > 0:
		return sums(*out, fset.Args())
	}
	return errors.New(usage)
}

// entry is one file or directory of an archive.
type entry struct {
	name string // slash-separated, under the archive's top directory
	path string // on disk; "" for a directory
	mode int64  // 0755 or 0644
}

// entries lists dir's tree, sorted, as it goes into an archive.
func entries(dir string) ([]entry, error) {
	top := filepath.Base(filepath.Clean(dir))
	var out []entry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := top + "/"
		if rel != "." {
			name += filepath.ToSlash(rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			out = append(out, entry{name: strings.TrimSuffix(name, "/") + "/", mode: 0o755})
		case info.Mode().IsRegular():
			mode := int64(0o644)
			if info.Mode()&0o111 != 0 {
				mode = 0o755
			}
			out = append(out, entry{name: name, path: path, mode: mode})
		default:
			return fmt.Errorf("%s: only files and directories can be archived", path)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, err
}

// archive writes dir's tree to out, a .tar.gz or a .zip.
func archive(out, dir string, mtime time.Time) error {
	list, err := entries(dir)
	if err != nil {
		return err
	}
	write := writeTarGz
	switch {
	case strings.HasSuffix(out, ".zip"):
		write = writeZip
	case !strings.HasSuffix(out, ".tar.gz"):
		return fmt.Errorf("%s: the archive's name must end in .tar.gz or .zip", out)
	}
	return writeFile(out, func(w io.Writer) error { return write(w, list, mtime) })
}

func writeTarGz(w io.Writer, list []entry, mtime time.Time) error {
	// No name and no time in the gzip header: only the content matters.
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range list {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: mtime, Typeflag: tar.TypeDir}
		if e.path != "" {
			h.Typeflag = tar.TypeReg
		}
		if err := copyEntry(e, func(size int64) (io.Writer, error) {
			h.Size = size
			return tw, tw.WriteHeader(h)
		}); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, list []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range list {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(fs.FileMode(e.mode))
		if e.path == "" {
			h.Method = zip.Store
			h.SetMode(fs.ModeDir | 0o755)
		}
		if err := copyEntry(e, func(int64) (io.Writer, error) { return zw.CreateHeader(h) }); err != nil {
			return err
		}
	}
	return zw.Close()
}

// copyEntry opens e's file (none for a directory), gets the writer for an
// entry of its size, and copies the file into it.
func copyEntry(e entry, create func(size int64) (io.Writer, error)) error {
	if e.path == "" {
		_, err := create(0)
		return err
	}
	f, err := os.Open(e.path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	w, err := create(info.Size())
	if err != nil {
		return err
	}
	if n, err := io.Copy(w, f); err != nil || n != info.Size() {
		return fmt.Errorf("%s: copied %d of %d bytes: %v", e.path, n, info.Size(), err)
	}
	return nil
}

// sums writes the SHA-256 of each file, as sha256sum(1) does and
// 'sha256sum -c' reads: "HEX  NAME", by name.
func sums(out string, files []string) error {
	sorted := append([]string(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return filepath.Base(sorted[i]) < filepath.Base(sorted[j]) })
	var lines strings.Builder
	for _, path := range sorted {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(&lines, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), filepath.Base(path))
	}
	return writeFile(out, func(w io.Writer) error {
		_, err := io.WriteString(w, lines.String())
		return err
	})
}

// writeFile writes out through a temporary file renamed into place, so a
// failed run leaves no half-written artefact behind.
func writeFile(out string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
