package store_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
	"github.com/hms-toolkit/hms/pkg/jsonbson"
	"github.com/hms-toolkit/hms/pkg/store"
)

func connect(t *testing.T, uri, db string, retryFor time.Duration) *store.Client {
	t.Helper()
	c, err := store.Connect(context.Background(), store.Options{URI: uri, DB: db, RetryFor: retryFor})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func testClient(t *testing.T) *store.Client {
	return connect(t, devdbtest.URI(t), devdbtest.DB(t), 10*time.Second)
}

type result struct {
	stats store.Stats
	errs  []string
	err   error
}

// counts are the counts of s, without where the input ended.
func counts(s store.Stats) store.Stats {
	s.LastLine, s.AtEOF = 0, false
	return s
}

func load(t *testing.T, c *store.Client, input string, o store.LoadOptions) result {
	t.Helper()
	var r result
	o.Report = func(e store.LineError) { r.errs = append(r.errs, e.Error()) }
	r.stats, r.err = c.Load(context.Background(), strings.NewReader(input), o)
	return r
}

func find(t *testing.T, c *store.Client, q store.Query) []string {
	t.Helper()
	var out []string
	if _, err := c.Find(context.Background(), q, func(b []byte) error {
		out = append(out, string(b))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInsertRoundTripIdempotent(t *testing.T) {
	c := testClient(t)
	lines := []string{
		`{"k":1,"big":-170141183460469231731687303715884105728,"f":1.5,"g":3.0,"u":"Grüße 👋","deep":{"a":[{"b":{"c":[]}}],"e":{}}}`,
		`{"k":2,"i64":9007199254740993,"exp":6.02214076e+23,"esc":"tab\there\u001b"}`,
	}
	input := strings.Join(lines, "\n") + "\n"
	for _, batch := range []int{1, 1000} {
		r := load(t, c, input, store.LoadOptions{Collection: "rt", IDField: "k", Batch: batch})
		if r.err != nil || len(r.errs) > 0 {
			t.Fatal(r.err, r.errs)
		}
		want := store.Stats{Read: 2, Inserted: 2}
		if batch == 1000 {
			want = store.Stats{Read: 2, Present: 2}
		}
		if counts(r.stats) != want {
			t.Errorf("batch %d: stats %+v, want %+v", batch, r.stats, want)
		}
	}
	got := find(t, c, store.Query{Collection: "rt", SortFields: []store.SortField{{Name: "k", Dir: 1}}, ID: jsonbson.IDNever})
	if !slices.Equal(got, lines) {
		t.Errorf("find:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(lines, "\n"))
	}
}

// Bad lines are reported with their line number and reason; the rest is
// stored.
func TestInsertRejects(t *testing.T) {
	c := testClient(t)
	input := `{"ok":1}
{"$where":"sleep(1000)"}
{"a":{"$ne":null}}
{"x":[{"y.z":1}]}
garbage
[1,2]

{"ok":2}
{"a":[1,[2]]}
{"unterminated":
{"ok":3}`
	r := load(t, c, input, store.LoadOptions{Collection: "rej", Batch: 2})
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := []string{
		`line 2: key "$where" starts with '$' (operators are not data)`,
		`line 3: key "$ne" in .a starts with '$' (operators are not data)`,
		`line 4: key "y.z" in .x[0] contains '.' (a path, not a field name)`,
		`line 5: invalid JSON at offset 0: want a JSON object, found 'g'`,
		`line 6: invalid JSON at offset 0: want a JSON object, found an array`,
		`line 10: invalid JSON at offset 16: unexpected end of input, want a value`,
	}
	// Line 9: FerretDB refuses arrays in arrays, MongoDB stores them.
	nested := false
	for _, e := range r.errs {
		if strings.HasPrefix(e, "line 9: server refused the document") {
			nested = true
		}
	}
	errs := slices.DeleteFunc(slices.Clone(r.errs), func(s string) bool { return strings.HasPrefix(s, "line 9:") })
	if !slices.Equal(errs, want) {
		t.Errorf("reports:\n%s\nwant\n%s", strings.Join(r.errs, "\n"), strings.Join(want, "\n"))
	}
	st := r.stats
	if st.Read != 10 || st.Rejected != 6 || st.Inserted+st.Failed != 4 || nested != (st.Failed == 1) {
		t.Errorf("stats %+v", st)
	}
	if got := find(t, c, store.Query{Collection: "rej", Fields: []string{"ok"}, Filter: mustQuery(t, `{"ok":{"$exists":true}}`)}); len(got) != 3 {
		t.Errorf("stored %v, want the 3 good lines", got)
	}
}

func mustQuery(t *testing.T, s string) []byte {
	b, err := jsonbson.ParseJSON(nil, []byte(s), jsonbson.Operators)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUpsert(t *testing.T) {
	c := testClient(t)
	q := store.Query{Collection: "u", SortFields: []store.SortField{{Name: "k", Dir: 1}}, ID: jsonbson.IDNever}

	r := load(t, c, `{"k":"a","n":1,"x":true}
{"k":"b","n":1}
`, store.LoadOptions{Collection: "u", Mode: store.Replace, Keys: []string{"k"}})
	if r.err != nil || counts(r.stats) != (store.Stats{Read: 2, Inserted: 2}) {
		t.Fatalf("%+v %v %v", r.stats, r.err, r.errs)
	}
	// Replace: a changes (x goes), b again the same, c new; a repeated in
	// the batch: the last line wins.
	r = load(t, c, `{"k":"a","n":2}
{"k":"b","n":1}
{"k":"c","n":1}
{"k":"a","n":3}
`, store.LoadOptions{Collection: "u", Mode: store.Replace, Keys: []string{"k"}})
	// (MongoDB counts b as unchanged, FerretDB as updated.)
	if r.err != nil || r.stats.Inserted != 1 || r.stats.Updated+r.stats.Present != 3 || r.stats.Updated < 2 {
		t.Fatalf("%+v %v %v", r.stats, r.err, r.errs)
	}
	want := []string{`{"k":"a","n":3}`, `{"k":"b","n":1}`, `{"k":"c","n":1}`}
	if got := find(t, c, q); !slices.Equal(got, want) {
		t.Errorf("after replace: %v, want %v", got, want)
	}
	// Merge: only the given fields change.
	r = load(t, c, `{"k":"a","m":true}
{"k":"d","n":4}
{"n":5}
`, store.LoadOptions{Collection: "u", Mode: store.Merge, Keys: []string{"k"}})
	if r.err != nil || counts(r.stats) != (store.Stats{Read: 3, Inserted: 1, Updated: 1, Rejected: 1}) {
		t.Fatalf("%+v %v %v", r.stats, r.err, r.errs)
	}
	if want := []string{`line 3: no key field "k"`}; !slices.Equal(r.errs, want) {
		t.Errorf("reports %v, want %v", r.errs, want)
	}
	want = []string{`{"k":"a","n":3,"m":true}`, `{"k":"b","n":1}`, `{"k":"c","n":1}`, `{"k":"d","n":4}`}
	if got := find(t, c, q); !slices.Equal(got, want) {
		t.Errorf("after merge: %v, want %v", got, want)
	}
	// A record another writer stored (its own _id) is updated, not doubled.
	if _, err := c.Collection("u").InsertOne(context.Background(), bson.D{{Key: "k", Value: "z"}, {Key: "n", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	r = load(t, c, "{\"k\":\"z\",\"n\":9}\n{\"k\":\"a\",\"n\":4}\n", store.LoadOptions{Collection: "u", Mode: store.Replace, Keys: []string{"k"}})
	if r.err != nil || counts(r.stats) != (store.Stats{Read: 2, Updated: 2}) {
		t.Fatalf("%+v %v %v", r.stats, r.err, r.errs)
	}
	got := find(t, c, store.Query{Collection: "u", Filter: mustQuery(t, `{"k":{"$in":["a","z"]}}`), SortFields: []store.SortField{{Name: "k", Dir: 1}}, Fields: []string{"k", "n"}})
	if want := []string{`{"k":"a","n":4}`, `{"k":"z","n":9}`}; !slices.Equal(got, want) {
		t.Errorf("after replacing another writer's record: %v, want %v", got, want)
	}

	// Compound keys, and without the index (every line a single upsert).
	for _, noIndex := range []bool{false, true} {
		coll := fmt.Sprintf("uc%v", noIndex)
		o := store.LoadOptions{Collection: coll, Mode: store.Replace, Keys: []string{"a", "b"}, NoIndex: noIndex}
		r = load(t, c, "{\"a\":1,\"b\":1,\"v\":1}\n{\"a\":1,\"b\":2,\"v\":1}\n", o)
		r2 := load(t, c, "{\"a\":1,\"b\":2,\"v\":2}\n", o)
		if r.err != nil || r2.err != nil || r.stats.Inserted != 2 || counts(r2.stats) != (store.Stats{Read: 1, Updated: 1}) {
			t.Errorf("noIndex %v: %+v %+v %v %v", noIndex, r.stats, r2.stats, r.err, r2.err)
		}
		got := find(t, c, store.Query{Collection: coll, Fields: []string{"v"}, SortFields: []store.SortField{{Name: "b", Dir: 1}}})
		if want := []string{`{"v":1}`, `{"v":2}`}; !slices.Equal(got, want) {
			t.Errorf("noIndex %v: %v, want %v", noIndex, got, want)
		}
	}
}

// The server stops in the middle of a load and comes back: the batch in
// flight is retried, and afterwards every line is stored exactly once.
func TestServerRestartMidRun(t *testing.T) {
	srv := devdbtest.Server(t)
	restartMidRun(t, srv.URI(), "i", func() {
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
	}, func() {
		srv2, err := devdbStart(srv.Addr(), srv.Dir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv2.Stop() })
	})
}

// The same with the server a child process killed with SIGKILL, and lines
// without ids (content ids make the retried batch harmless).
func TestServerKilledMidRun(t *testing.T) {
	dir := t.TempDir()
	child, uri := startChild(t, "127.0.0.1:0", dir)
	restartMidRun(t, uri, "", func() {
		child.Process.Kill()
		child.Wait()
	}, func() {
		startChild(t, strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/"), dir)
	})
}

// startChild runs this test binary as a dev server (see TestMain) and
// returns once it answers.
func startChild(t *testing.T, addr, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HMS_STORE_TEST_DEVDB="+addr, "HMS_STORE_TEST_DEVDB_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	uri, err := bufio.NewReader(out).ReadString('\n') // printed once it answers
	if err != nil {
		t.Fatalf("dev server child: %v", err)
	}
	return cmd, strings.TrimSpace(uri)
}

func TestMain(m *testing.M) {
	if addr := os.Getenv("HMS_STORE_TEST_DEVDB"); addr != "" {
		s, err := devdbStart(addr, os.Getenv("HMS_STORE_TEST_DEVDB_DIR"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(s.URI())
		select {} // until killed
	}
	os.Exit(m.Run())
}

// restartMidRun loads lines through a pipe, calls stop after some batches
// are stored and while more input is coming, restart once the loader is
// retrying, and checks that every line is then stored exactly once.
func restartMidRun(t *testing.T, uri, idField string, stop, restart func()) {
	c := connect(t, uri, "restart", time.Minute)
	const n, batch = 5000, 100
	pr, pw := io.Pipe()
	batches := make(chan store.Stats, n)
	retries := make(chan error, 1)
	done := make(chan result, 1)
	go func() {
		st, err := c.Load(context.Background(), pr, store.LoadOptions{
			Collection: "r", IDField: idField, Batch: batch,
			Progress: func(s store.Stats) { batches <- s },
			OnRetry: func(err error) {
				select {
				case retries <- err:
				default:
				}
			},
		})
		done <- result{stats: st, err: err}
	}()
	i := 0
	writeN := func(k int) {
		var b bytes.Buffer
		for ; k > 0; k-- {
			fmt.Fprintf(&b, "{\"i\":%d,\"pad\":\"%s\"}\n", i, strings.Repeat("x", i%50))
			i++
		}
		if _, err := pw.Write(b.Bytes()); err != nil {
			t.Error(err)
		}
	}
	// Some batches are stored...
	writeN(n / 2)
	for s := <-batches; s.Inserted < 3*batch; s = <-batches {
	}
	// ...then the server goes away while the rest is written.
	stop()
	wrote := make(chan struct{})
	go func() { writeN(n - n/2); close(wrote) }() // returns once the loader read it all
	<-retries                                     // the loader noticed and is retrying
	restart()
	<-wrote
	pw.Close()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.stats.Read != n || r.stats.Inserted+r.stats.Present != n || r.stats.Failed != 0 || r.stats.Rejected != 0 {
		t.Errorf("stats %+v", r.stats)
	}
	// Every line exactly once.
	cnt, err := c.Collection("r").CountDocuments(context.Background(), bson.D{})
	if err != nil || cnt != n {
		t.Fatalf("count %d, %v; want %d", cnt, err, n)
	}
	seen := make([]bool, n)
	if _, err := c.Find(context.Background(), store.Query{Collection: "r", Fields: []string{"i"}}, func(b []byte) error {
		var k int
		if _, err := fmt.Sscanf(string(b), `{"i":%d}`, &k); err != nil || k < 0 || k >= n || seen[k] {
			return fmt.Errorf("unexpected or repeated %s", b)
		}
		seen[k] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// The server stays away for longer than RetryFor: Load stops with an error
// and every line read is counted, the unstored ones as not stored, from
// the first line of the batch that could not be written.
func TestServerGoneGivesUp(t *testing.T) {
	srv := devdbtest.Server(t)
	c := connect(t, srv.URI(), "gone", 500*time.Millisecond)
	pr, pw := io.Pipe()
	defer pw.Close()
	progress := make(chan store.Stats, 100)
	done := make(chan result, 1)
	go func() {
		st, err := c.Load(context.Background(), pr, store.LoadOptions{
			Collection: "g", Batch: 10,
			Progress: func(s store.Stats) { progress <- s },
		})
		done <- result{stats: st, err: err}
	}()
	var b bytes.Buffer
	for i := range 10 {
		fmt.Fprintf(&b, "{\"i\":%d}\n", i)
	}
	pw.Write(b.Bytes())
	if s := <-progress; s.Inserted != 10 {
		t.Fatalf("first batch: %+v", s)
	}
	srv.Stop()
	go pw.Write(b.Bytes()) // the same ten again, then more
	r := <-done
	if !errors.Is(r.err, store.ErrGaveUp) {
		t.Fatalf("error %v, want ErrGaveUp", r.err)
	}
	st := r.stats
	if st.Inserted != 10 || st.Failed != 0 || st.NotStored == 0 || st.Read != st.Inserted+st.NotStored || st.FirstNotStored != 11 {
		t.Errorf("stats %+v", st)
	}
}

func TestConnectUnreachable(t *testing.T) {
	start := time.Now()
	_, err := store.Connect(context.Background(), store.Options{URI: "mongodb://127.0.0.1:1", ConnectTimeout: 300 * time.Millisecond})
	if !errors.Is(err, store.ErrUnreachable) {
		t.Fatalf("error %v, want ErrUnreachable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// Overlong lines are rejected without holding them in memory, and the
// line after them is read as usual.
func TestLongLine(t *testing.T) {
	c := testClient(t)
	long := `{"x":"` + strings.Repeat("y", 1000) + `"}`
	r := load(t, c, "{\"a\":1}\n"+long+"\n{\"a\":2}", store.LoadOptions{Collection: "long", MaxLine: 100})
	if r.err != nil || counts(r.stats) != (store.Stats{Read: 3, Inserted: 2, Rejected: 1}) {
		t.Errorf("%+v %v", r.stats, r.err)
	}
	if want := []string{"line 2: line is 1008 bytes, longer than the maximum of 100"}; !slices.Equal(r.errs, want) {
		t.Errorf("reports %v, want %v", r.errs, want)
	}

	// The same, read one byte at a time: lines span many reads.
	var errs []string
	st, err := c.Load(context.Background(), iotest.OneByteReader(strings.NewReader("{\"a\":3}\r\n"+long+"\n\n{\"a\":4}\n")),
		store.LoadOptions{Collection: "long", MaxLine: 100, Report: func(e store.LineError) { errs = append(errs, e.Error()) }})
	if err != nil || counts(st) != (store.Stats{Read: 3, Inserted: 2, Rejected: 1}) {
		t.Errorf("%+v %v", st, err)
	}
	if want := []string{"line 2: line is 1008 bytes, longer than the maximum of 100"}; !slices.Equal(errs, want) {
		t.Errorf("reports %v, want %v", errs, want)
	}
	got := find(t, c, store.Query{Collection: "long", SortFields: []store.SortField{{Name: "a", Dir: 1}}})
	if want := []string{`{"a":1}`, `{"a":2}`, `{"a":3}`, `{"a":4}`}; !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
}

// Ids equal as the server compares them (8, 8.0, 8 as int64, -0.0 and 0)
// are one id: the first line wins, in one batch or across batches, and the
// counts say so.
func TestEqualIDsFirstWins(t *testing.T) {
	c := testClient(t)
	input := `{"_id":8,"v":"first"}
{"_id":8.0,"v":"second"}
{"_id":80e-1,"v":"third"}
{"_id":-0.0,"v":"zero"}
{"_id":0,"v":"zero again"}
{"_id":{"a":1},"v":"doc"}
{"_id":{"a":1.0},"v":"doc again"}
`
	for _, batch := range []int{1000, 1} {
		coll := fmt.Sprintf("eq%d", batch)
		r := load(t, c, input, store.LoadOptions{Collection: coll, Batch: batch})
		if r.err != nil || counts(r.stats) != (store.Stats{Read: 7, Inserted: 3, Present: 4}) {
			t.Fatalf("batch %d: %+v %v %v", batch, r.stats, r.err, r.errs)
		}
		got := find(t, c, store.Query{Collection: coll, Fields: []string{"v"}, SortFields: []store.SortField{{Name: "v", Dir: 1}}})
		if want := []string{`{"v":"doc"}`, `{"v":"first"}`, `{"v":"zero"}`}; !slices.Equal(got, want) {
			t.Errorf("batch %d: stored %v, want %v", batch, got, want)
		}
	}
	// --id-field with an _id of equal value is consistent.
	r := load(t, c, `{"n":5,"_id":5.0}`+"\n", store.LoadOptions{Collection: "idf", IDField: "n"})
	if r.err != nil || counts(r.stats) != (store.Stats{Read: 1, Inserted: 1}) {
		t.Errorf("id-field: %+v %v %v", r.stats, r.err, r.errs)
	}
	// Upsert keys: 8 and 8.0 are one record, the last line wins.
	r = load(t, c, "{\"k\":8,\"v\":1}\n{\"k\":8.0,\"v\":2}\n", store.LoadOptions{Collection: "uk", Mode: store.Replace, Keys: []string{"k"}})
	if r.err != nil || r.stats.Inserted != 1 || r.stats.Updated != 1 {
		t.Errorf("upsert: %+v %v %v", r.stats, r.err, r.errs)
	}
	if got := find(t, c, store.Query{Collection: "uk", Fields: []string{"v"}}); !slices.Equal(got, []string{`{"v":2}`}) {
		t.Errorf("upsert stored %v", got)
	}
}

// When the server refuses the first line with an id, the next line with
// that id is stored in its place (FerretDB refuses arrays in arrays;
// MongoDB stores the first line and the second is already present).
func TestEqualIDFirstRefused(t *testing.T) {
	c := testClient(t)
	r := load(t, c, "{\"_id\":3,\"a\":[[1]]}\n{\"_id\":3.0,\"a\":2}\n{\"_id\":3,\"a\":3}\n", store.LoadOptions{Collection: "ref"})
	got := find(t, c, store.Query{Collection: "ref", Fields: []string{"a"}})
	switch {
	case r.err != nil:
		t.Fatal(r.err)
	case r.stats.Failed == 1:
		if counts(r.stats) != (store.Stats{Read: 3, Inserted: 1, Present: 1, Failed: 1}) || !slices.Equal(got, []string{`{"a":2}`}) {
			t.Errorf("%+v, stored %v", r.stats, got)
		}
	case counts(r.stats) != (store.Stats{Read: 3, Inserted: 1, Present: 2}) || !slices.Equal(got, []string{`{"a":[[1]]}`}):
		t.Errorf("%+v, stored %v", r.stats, got)
	}
}

// Text that is not UTF-8, stored by another program, comes out as U+FFFD
// and is told to OnInvalidUTF8 with the document's _id and where. (FerretDB
// replaces such bytes when storing them; MongoDB keeps them.)
func TestFindInvalidUTF8(t *testing.T) {
	c := testClient(t)
	doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: 42}, {Key: "s", Value: "a\xffb"}, {Key: "ok", Value: "é"}})
	if _, err := c.Collection("u8").InsertOne(context.Background(), bson.Raw(doc)); err != nil {
		t.Fatal(err)
	}
	var stored bson.Raw
	if err := c.Collection("u8").FindOne(context.Background(), bson.D{}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	kept := stored.Lookup("s").StringValue() == "a\xffb"
	var told []string
	got := find(t, c, store.Query{Collection: "u8", OnInvalidUTF8: func(id string, paths []string) {
		told = append(told, id+" "+strings.Join(paths, ","))
	}})
	// (The escape when hms-store replaced the byte, the character itself
	// when the server did: the same JSON value.)
	if len(got) == 1 {
		got[0] = strings.ReplaceAll(got[0], `\ufffd`, "\uFFFD")
	}
	if want := []string{"{\"_id\":42,\"s\":\"a\uFFFDb\",\"ok\":\"é\"}"}; !slices.Equal(got, want) {
		t.Errorf("find: %q, want %q", got, want)
	}
	if want := []string{"42 .s"}; kept && !slices.Equal(told, want) || !kept && told != nil {
		t.Errorf("told %q (the server kept the bytes: %v)", told, kept)
	}
}
