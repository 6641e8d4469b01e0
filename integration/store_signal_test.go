package integration

// hms-store stopped by real signals, as a process (the test binary run as
// hms-store, see testenv.Main), against a private dev server behind a fault
// proxy that can make it stop answering.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/internal/testenv"
	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
	"github.com/hms-toolkit/hms/pkg/faultproxy"
)

// storeEnv is a private dev server, a proxy in front of it, and the
// database of a test.
type storeEnv struct {
	t      *testing.T
	proxy  *faultproxy.Proxy
	direct string // URI of the database on the server
	via    string // the same through the proxy; the driver's heartbeat made rare, so
	// that what the stalled proxy holds is a command's
	db *mongo.Database
}

func newStoreEnv(t *testing.T) *storeEnv {
	srv := devdbtest.Server(t)
	p, err := faultproxy.Start(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &storeEnv{t: t, proxy: p, direct: srv.URI() + "sig",
		via: "mongodb://" + p.Addr() + "/sig?heartbeatFrequencyMS=60000"}
	mc, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Disconnect(context.Background()) })
	e.db = mc.Database("sig")
	return e
}

// lockedBuffer collects a child's output, to be read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs hms-store with args, stdin and the database at uri; its
// stderr is collected.
func (e *storeEnv) start(uri string, stdin io.Reader, args ...string) (*exec.Cmd, *lockedBuffer) {
	cmd := exec.Command("hms-store", args...)
	cmd.Env = append(os.Environ(), "MONGODB_URI="+uri)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, stderr
}

// signal sends sig to cmd and returns its exit status once it exits, which
// must be within limit.
func (e *storeEnv) signal(cmd *exec.Cmd, stderr *lockedBuffer, sig syscall.Signal, limit time.Duration) int {
	e.t.Helper()
	start := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		e.t.Fatal(err)
	}
	return e.wait(cmd, stderr, start, limit)
}

func (e *storeEnv) wait(cmd *exec.Cmd, stderr *lockedBuffer, start time.Time, limit time.Duration) int {
	e.t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit + 30*time.Second):
		e.t.Fatalf("hms-store did not exit; stderr:\n%s", stderr)
	}
	if took := time.Since(start); took > limit {
		e.t.Errorf("hms-store exited after %v, more than %v; stderr:\n%s", took.Round(time.Millisecond), limit, stderr)
	}
	return cmd.ProcessState.ExitCode()
}

// count is the number of documents of coll matching filter.
func (e *storeEnv) count(coll string, filter bson.D) int64 {
	n, err := e.db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// waitFor polls until cond holds (60s at most).
func (e *storeEnv) waitFor(what string, cond func() bool) {
	e.t.Helper()
	if !testenv.WaitFor(60*time.Second, cond) {
		e.t.Fatalf("timed out waiting for %s", what)
	}
}

// waitHeld waits until the stalled proxy holds a command: a write in flight.
func (e *storeEnv) waitHeld() {
	e.waitFor("a command held by the stalled proxy", func() bool { return e.proxy.Held() > 0 })
}

// pipe is a pipe for a child's stdin that never ends until the test ends:
// an *os.File, so that waiting for the child does not wait for its input.
func (e *storeEnv) pipe() (r, w *os.File) {
	r, w, err := os.Pipe()
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func jsonLines(n int, format string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, format+"\n", i)
	}
	return b.String()
}

// The case: an upsert of keys that exist, against a server that is
// slow (here: stopped answering behind the proxy), is SIGTERMed. It exits
// within the grace and 5s more, with a summary that matches the database;
// running again from the line it names completes the job, nothing lost and
// nothing doubled.
func TestStoreUpsertSIGTERM(t *testing.T) {
	e := newStoreEnv(t)
	const n = 500
	cmd, stderr := e.start(e.direct, strings.NewReader(jsonLines(n, `{"k":%d,"v":1}`)), "upsert", "-c", "c", "--key", "k")
	if code := e.wait(cmd, stderr, time.Now(), time.Minute); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	update := jsonLines(n, `{"k":%d,"v":2}`)
	cmd, stderr = e.start(e.via, strings.NewReader(update), "upsert", "-c", "c", "--key", "k", "--batch", "100", "--stop-grace", "2s")
	e.waitFor("some updates", func() bool { return e.count("c", bson.D{{Key: "v", Value: 2}}) >= 10 })
	e.proxy.Stall()
	e.waitHeld()
	code := e.signal(cmd, stderr, syscall.SIGTERM, 2*time.Second+5*time.Second)
	e.proxy.Resume()
	if code != 143 {
		t.Fatalf("exit %d, want 143; stderr:\n%s", code, stderr)
	}
	m := regexp.MustCompile(`hms-store: read 500, inserted 0, updated (\d+), already present (\d+), rejected 0, failed 0, not stored (\d+)\n` +
		`hms-store: error: stopped by SIGTERM: (\d+) of the lines read were not stored, from line (\d+) on \(the server may have stored the (\d+) of the write cut short; stop grace over: 2s passed after the stop signal\)\n` +
		`hms-store: hint: run again from line (\d+): tail -n \+(\d+) INPUT \| hms-store upsert ...; storing a line again changes nothing, so running again is harmless\n$`).
		FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("stderr:\n%s", stderr)
	}
	num := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
	stored, notStored, from, maybe := num(1)+num(2), num(3), num(5), num(6)
	if stored+notStored != n || num(4) != notStored || num(7) != from || num(8) != from || maybe < 1 {
		t.Fatalf("inconsistent summary:\n%s", stderr)
	}
	// Honest: every line before the one named is stored, and at most the
	// lines of the write cut short are stored besides those counted.
	e.waitFor("the server to settle", func() bool { return e.count("c", bson.D{{Key: "v", Value: 2}}) >= stored })
	if got := e.count("c", bson.D{{Key: "k", Value: bson.D{{Key: "$lt", Value: from}}}, {Key: "v", Value: 1}}); got != 0 {
		t.Errorf("%d lines before line %d are not stored", got, from)
	}
	if got := e.count("c", bson.D{{Key: "v", Value: 2}}); got > stored+maybe {
		t.Errorf("%d records updated, the summary says %d (and %d maybe)", got, stored, maybe)
	}
	rest := strings.Join(strings.SplitAfter(update, "\n")[from-1:], "")
	cmd, stderr = e.start(e.direct, strings.NewReader(rest), "upsert", "-c", "c", "--key", "k")
	if code := e.wait(cmd, stderr, time.Now(), 3*time.Minute); code != 0 {
		t.Fatalf("again: exit %d: %s", code, stderr)
	}
	if all, v2 := e.count("c", bson.D{}), e.count("c", bson.D{{Key: "v", Value: 2}}); all != n || v2 != n {
		t.Errorf("after running again: %d records, %d updated; want %d, %d", all, v2, n, n)
	}
}

// Stopped while its input blocks (a pipe that never ends), insert exits at
// once; what it read is stored and the summary says where to go on.
func TestStoreInsertSignalWhileReading(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGTERM, "SIGTERM", 143}, {syscall.SIGINT, "SIGINT", 130}} {
		e := newStoreEnv(t)
		pr, pw := e.pipe()
		cmd, stderr := e.start(e.direct, pr, "insert", "-c", "i")
		pw.Write([]byte(jsonLines(3, `{"i":%d}`) + "\n"))
		e.waitFor("3 lines stored", func() bool { return e.count("i", bson.D{}) == 3 })
		if code := e.signal(cmd, stderr, tc.sig, 2*time.Second); code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.sig, code, tc.code)
		}
		want := fmt.Sprintf("hms-store: read 3, inserted 3, already present 0, rejected 0, failed 0\n"+
			"hms-store: error: stopped by %s: every line read was stored or rejected; the input after line 4 was not read\n"+
			"hms-store: hint: run again from line 5: tail -n +5 INPUT | hms-store insert ...; storing a line again changes nothing, so running again is harmless\n",
			tc.name)
		// (The signal may come before the server's answer to the last
		// write is in: hms-store then says it is waiting for it.)
		got := regexp.MustCompile(`(?m)^hms-store: stopping: .*\n`).ReplaceAllString(stderr.String(), "")
		if got != want {
			t.Errorf("%v: stderr:\n%s\nwant:\n%s", tc.sig, stderr, want)
		}
	}
}

// A second signal cuts the write in flight at once, whatever the grace;
// --failed gets the lines not stored.
func TestStoreSecondSignalSkipsGrace(t *testing.T) {
	e := newStoreEnv(t)
	pr, pw := e.pipe()
	failed := filepath.Join(t.TempDir(), "failed")
	cmd, stderr := e.start(e.via, pr, "insert", "-c", "g", "--stop-grace", "10m", "--failed", failed)
	pw.Write([]byte("{\"a\":1}\n"))
	e.waitFor("a line stored", func() bool { return e.count("g", bson.D{}) == 1 })
	e.proxy.Stall()
	pw.Write([]byte("{\"a\":2}\n{\"a\":3}\n"))
	e.waitHeld()
	cmd.Process.Signal(syscall.SIGTERM)
	e.waitFor("the first signal taken", func() bool { return strings.Contains(stderr.String(), "hms-store: stopping: ") })
	if code := e.signal(cmd, stderr, syscall.SIGINT, 5*time.Second); code != 143 {
		t.Errorf("exit %d, want 143 (the first signal's)", code)
	}
	// Lines 2 and 3 were not written; line 1 is stored, unless the answer
	// to its write was held too (it is then among the lines not stored).
	want := map[string]string{"2": "{\"a\":2}\n{\"a\":3}\n", "3": "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"}
	m := regexp.MustCompile(`; stop grace over: a second signal came\).*; the (\d) lines not stored are in ` + regexp.QuoteMeta(failed)).
		FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("stderr:\n%s", stderr)
	}
	if b, _ := os.ReadFile(failed); string(b) != want[m[1]] {
		t.Errorf("--failed holds %q; stderr:\n%s", b, stderr)
	}
}

// find stops at once, whatever the server is doing: here, not answering
// the request for the next batch of documents (the first is 101; they are
// large, so that find waits for its output to be read meanwhile).
func TestStoreFindSIGTERM(t *testing.T) {
	e := newStoreEnv(t)
	big := strings.Repeat("x", 100<<10)
	var docs []any
	for i := range 150 {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "s", Value: big}})
	}
	if _, err := e.db.Collection("f").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("hms-store", "find", "-c", "f", "--connect-timeout", "10m")
	cmd.Env = append(os.Environ(), "MONGODB_URI="+e.via)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	r := bufio.NewReaderSize(out, 2<<20)
	if _, err := r.ReadSlice('\n'); err != nil {
		t.Fatal(err)
	}
	e.proxy.Stall() // find has the first batch and is waiting for us to read
	go io.Copy(io.Discard, r)
	e.waitHeld()
	if code := e.signal(cmd, stderr, syscall.SIGTERM, 3*time.Second); code != 143 {
		t.Errorf("exit %d, want 143", code)
	}
	if !regexp.MustCompile(`^hms-store: error: stopped by SIGTERM: after [1-9]\d* documents: the output is incomplete\n$`).MatchString(stderr.String()) {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// A server that stops answering is given up on after --connect-timeout and
// --retry-for, for the reason it has: no signal came.
func TestStoreRetryForSilentServer(t *testing.T) {
	e := newStoreEnv(t)
	pr, pw := e.pipe()
	cmd, stderr := e.start(e.via, pr, "insert", "-c", "r", "--retry-for", "3s", "--connect-timeout", "1s")
	pw.Write([]byte("{\"a\":1}\n"))
	e.waitFor("a line stored", func() bool { return e.count("r", bson.D{}) == 1 })
	e.proxy.Stall()
	start := time.Now()
	pw.Write([]byte("{\"a\":2}\n"))
	if code := e.wait(cmd, stderr, start, 1*time.Second+3*time.Second+5*time.Second); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "hms-store: error: gave up retrying after 3s: the server stopped answering: no reply for 1") ||
		strings.Contains(stderr.String(), "stopped by") || strings.Contains(stderr.String(), "interrupt") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// apply stops between two lines: the line in flight when the signal comes
// is finished within the grace, the next one is not applied.
func TestStoreApplySIGTERM(t *testing.T) {
	e := newStoreEnv(t)
	dir := t.TempDir()
	run := func(stdin string, args ...string) string {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Stdin = dir, strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", args, err)
		}
		return string(out)
	}
	run("", "hms-sign", "keygen", "--kid", "co", "--origin", "central-office", "--out", "ring")
	var envs []string
	for i := 1; i <= 3; i++ {
		create := fmt.Sprintf(`{"target":"artisan","properties":{"oid":"a0000000-0000-4000-8000-00000000000%d","contact_name":"n","contact_email":"no-one@me.co","address":{"street_address":"s","city":"c"},"queue_id":"hms.artisan.%d","signing_key":"%s"}}`,
			i, i, strings.Repeat("1f", 64))
		envs = append(envs, run(create, "hms-sign", "sign", "--key", "ring", "--operation", "create"))
	}
	pr, pw := e.pipe()
	cmd, stderr := e.start(e.via, pr, "apply", "-v", "--keyring", filepath.Join(dir, "ring"), "--stop-grace", "10s")
	pw.WriteString(envs[0])
	e.waitFor("line 1 applied", func() bool { return strings.Contains(stderr.String(), "hms-store: line 1 (id ") })
	e.proxy.Stall()
	pw.WriteString(envs[1] + envs[2])
	e.waitHeld() // line 2 is in flight
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	e.waitFor("the signal taken", func() bool {
		return strings.Contains(stderr.String(), "hms-store: stopping: the line in progress gets up to 10s")
	})
	e.proxy.Resume()
	if code := e.wait(cmd, stderr, start, 10*time.Second); code != 143 {
		t.Errorf("exit %d, want 143", code)
	}
	if !strings.Contains(stderr.String(), "hms-store: line 2 (id ") ||
		!strings.Contains(stderr.String(), "hms-store: error: stopped by SIGTERM: after line 2; the rest was not applied\n") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if n := e.count("artisans", bson.D{}); n != 2 {
		t.Errorf("%d artisans, want 2 (lines 1 and 2)", n)
	}
}
