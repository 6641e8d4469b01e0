package signcmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/message"
)

// run runs hms-sign in-process through Run, with args and stdin, and
// returns stdout, stderr and the exit status. No process global is touched.
func run(t *testing.T, stdin io.Reader, args ...string) (string, string, int) {
	t.Helper()
	return runCtx(context.Background(), stdin, args...)
}

func runCtx(ctx context.Context, stdin io.Reader, args ...string) (string, string, int) {
	var stdout, stderr bytes.Buffer
	code := Run(ctx, append([]string{name}, args...), stdin, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// newKey writes a fresh key to a 0600 file in dir and returns its path.
func newKey(t *testing.T, dir, kid, origin string) (string, *message.Key) {
	t.Helper()
	k, err := message.GenerateKey(kid, origin, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kid+".key")
	if err := message.WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	return path, k
}

// TestLegacyVectors runs every Python-generated vector through
// 'hms-sign verify --scheme legacy', and re-signs the valid ones with
// 'hms-sign sign --scheme legacy'.
func TestLegacyVectors(t *testing.T) {
	f, err := os.Open("../../../testdata/vectors/hms_sys_legacy.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var v struct {
			Key, Line string
			Valid     bool
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		keyFile := filepath.Join(dir, "key")
		os.WriteFile(keyFile, []byte(v.Key+"\n"), 0o600)
		out, errs, code := run(t, strings.NewReader(v.Line+"\n"), "verify", "--scheme", "legacy", "--key", keyFile)
		if v.Valid != (code == 0) || v.Valid != (out == v.Line+"\n") {
			t.Errorf("vector %d: valid=%v but exit %d, stdout %q, stderr %q", n, v.Valid, code, out, errs)
			continue
		}
		if !v.Valid {
			if !strings.HasPrefix(errs, "hms-sign: line 1: bad-signature: ") {
				t.Errorf("vector %d: stderr %q", n, errs)
			}
			continue
		}
		var m struct {
			Data      json.RawMessage
			Operation string
			Origin    *string
		}
		json.Unmarshal([]byte(v.Line), &m)
		args := []string{"sign", "--scheme", "legacy", "--key", keyFile, "--operation", m.Operation}
		if m.Origin != nil {
			args = append(args, "--origin", *m.Origin)
		}
		signed, errs, code := run(t, bytes.NewReader(m.Data), args...)
		if code != 0 {
			t.Fatalf("vector %d: sign: %s", n, errs)
		}
		if out, errs, code := run(t, strings.NewReader(signed), "verify", "--scheme", "legacy", "--key", keyFile); code != 0 || out != signed {
			t.Errorf("vector %d: re-signed line does not verify: %s", n, errs)
		}
		// Same signature as Python's.
		if sig := v.Line[strings.LastIndex(v.Line, `"signature": "`):]; !strings.Contains(signed, sig) {
			t.Errorf("vector %d: signature differs:\n%s\n%s", n, signed, v.Line)
		}
	}
	if n != 120 {
		t.Errorf("%d vectors, want 120", n)
	}
}

// TestBinaryInput: NUL bytes and invalid UTF-8 are rejected, reported in
// --rejects as base64, and the lines around them still pass.
func TestBinaryInput(t *testing.T) {
	dir := t.TempDir()
	keyFile, k := newKey(t, dir, "b1", "dispatcher")
	good, _ := k.Sign("go", []byte(`"é"`), time.Now())
	good2, _ := k.Sign("go", []byte(`2`), time.Now())
	in := string(good) + "\n" +
		"\x00\x00\n" +
		strings.Replace(string(good), "é", "\xff", 1) + "\n" +
		strings.Replace(string(good2), `"data":2`, "\"data\":\"\x00\"", 1) + "\n" +
		string(good2) + "\n"
	rej := filepath.Join(dir, "rej")
	out, errs, code := run(t, strings.NewReader(in), "verify", "--key", keyFile, "--rejects", rej)
	if code != 1 || out != string(good)+"\n"+string(good2)+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, want := range []string{"line 2: malformed: ", "line 3: malformed: invalid JSON at offset 9: invalid UTF-8 in string", "line 4: malformed: invalid JSON at offset 9: control character U+0000 in string"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	b, _ := os.ReadFile(rej)
	recs := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(recs) != 3 || !strings.Contains(recs[0], `"input":"\u0000\u0000"`) || !strings.Contains(recs[1], `"input_base64":"`) {
		t.Errorf("rejects:\n%s", b)
	}
	// sign --raw refuses lines that are not UTF-8; NUL is fine in a string.
	out, errs, code = run(t, strings.NewReader("ok\n\xff\xfe\na\x00b\n"), "sign", "--key", keyFile, "--operation", "x", "--raw")
	if code != 1 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"data":"a\u0000b"`) || !strings.Contains(errs, "line 2: not valid UTF-8") {
		t.Errorf("sign --raw: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestLongLineMemory: a 16 MiB line costs no more than the 1 MiB line
// buffer, whatever its length.
func TestLongLineMemory(t *testing.T) {
	keyFile, _ := newKey(t, t.TempDir(), "m1", "worker")
	big := io.MultiReader(strings.NewReader("1\n"), io.LimitReader(repeatReader('x'), 16<<20), strings.NewReader("\n2\n"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, errs, code := run(t, big, "verify", "--key", keyFile)
	runtime.ReadMemStats(&after)
	if code != 1 || !strings.Contains(errs, "line 2: too-long: line is 16777216 bytes") {
		t.Fatalf("exit %d, %s", code, errs)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d bytes for a 16 MiB line", alloc)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// Key-file warnings go to the command's own stderr, not the process's.
func TestWarningOnOwnStderr(t *testing.T) {
	keyFile, _ := newKey(t, t.TempDir(), "w1", "worker")
	os.Chmod(keyFile, 0o644)
	_, errs, code := run(t, strings.NewReader("1\n"), "sign", "--key", keyFile, "--operation", "x")
	if code != 0 || !strings.Contains(errs, "hms-sign: warning: key file "+keyFile+" is accessible by group or others (mode 0644)") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// SIGINT while sign waits for input: everything read is signed and written,
// stderr says where a rerun must start, and the exit status is 130.
func TestStopBySignal(t *testing.T) {
	keyFile, _ := newKey(t, t.TempDir(), "s1", "worker")
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	type result struct {
		out, errs string
		code      int
	}
	done := make(chan result)
	go func() {
		var stdout, stderr bytes.Buffer
		code := Run(ctx, []string{name, "sign", "--key", keyFile, "--operation", "x", "-v"}, pr, &stdout, &stderr)
		done <- result{stdout.String(), stderr.String(), code}
	}()
	pw.Write([]byte("1\n2\n"))
	pw.Write([]byte("3\n")) // the first write was read: lines 1-2 are being handled
	cancel(&cmdutil.SignalError{Signal: syscall.SIGINT})
	r := <-done
	lines := strings.Count(r.out, "\n")
	if r.code != 130 || lines < 2 || !strings.Contains(r.errs, "hms-sign: error: stopped by SIGINT: lines 1-") ||
		!strings.Contains(r.errs, "a rerun must start at line ") || !strings.Contains(r.errs, "hms-sign: read ") {
		t.Fatalf("exit %d, %d envelopes, stderr %q", r.code, lines, r.errs)
	}
}
