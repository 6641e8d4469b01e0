package signstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/message/legacy"
	"github.com/hms-toolkit/hms/pkg/strictjson"
)

var (
	testKey    = &message.Key{KID: "k1", Origin: "artisan", Secret: []byte("0123456789abcdef0123456789abcdef")}
	legacyKey  = []byte("ключ")
	testOrigin = "central-office"
)

// setup is one way of signing and the matching check.
type setup struct {
	name   string
	raw    bool
	chunk  int
	legacy bool
}

func (s setup) scheme(t testing.TB) Scheme {
	if s.legacy {
		ls, err := legacy.NewSigner(legacyKey, "update", testOrigin)
		if err != nil {
			t.Fatal(err)
		}
		return Legacy(ls)
	}
	ms, err := message.NewSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return HMS(ms, "update", nil)
}

func (s setup) check(t testing.TB) Check {
	if s.legacy {
		return CheckLegacy(legacyKey)
	}
	kr, err := message.NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	v := message.NewVerifier(kr)
	v.MaxAge = time.Hour
	return CheckHMS(v)
}

var setups = []setup{
	{name: "hms"}, {name: "hms-raw", raw: true}, {name: "hms-chunk3", chunk: 3}, {name: "hms-raw-chunk2", raw: true, chunk: 2},
	{name: "legacy", legacy: true}, {name: "legacy-chunk3", legacy: true, chunk: 3}, {name: "legacy-raw", legacy: true, raw: true},
}

// signThenVerify signs in, verifies what came out, and checks the property
// of issue 10: whatever the signer accepts, the verifier accepts. It
// returns the signing stats and rejects.
func signThenVerify(t testing.TB, s setup, in []byte) (Stats, []Reject) {
	var signed bytes.Buffer
	var rejects []Reject
	st, err := Sign(context.Background(), bytes.NewReader(in), &signed, SignOptions{
		Scheme: s.scheme(t), Raw: s.raw, Chunk: s.chunk,
		OnReject: func(r Reject) { r.Input = nil; rejects = append(rejects, r) },
	})
	if err != nil {
		t.Fatalf("%s: Sign: %v", s.name, err)
	}
	if st.Written != st.Envelopes || int64(bytes.Count(signed.Bytes(), []byte("\n"))) != st.Envelopes {
		t.Fatalf("%s: stats %+v for %d lines of output", s.name, st, bytes.Count(signed.Bytes(), []byte("\n")))
	}
	var out bytes.Buffer
	vst, err := Verify(context.Background(), bytes.NewReader(signed.Bytes()), &out, VerifyOptions{
		Check: s.check(t),
		OnReject: func(r Reject) {
			t.Fatalf("%s: the signer wrote line %d, which the verifier refuses: %v\ninput %q\nline %.300q", s.name, r.First, r.Err, in, r.Input)
		},
	})
	if err != nil || vst.Envelopes != st.Envelopes || !bytes.Equal(out.Bytes(), signed.Bytes()) {
		t.Fatalf("%s: Verify: %+v, %v", s.name, vst, err)
	}
	return st, rejects
}

func TestSignThenVerify(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	in := strings.Join([]string{
		`1`, `{"b":[1,2.50,-0],"a":"é\n😀"}`, ``, `12a`, `"\ud800"`, "\"\xff\"", `1e400`, `-1e400`, `1e-400`,
		deep(strictjson.MaxDepth - 1), deep(strictjson.MaxDepth - 2), deep(strictjson.MaxDepth), `{"a":1,"a":2}`,
		`[1e400]`, "  \t", `{"k":"\u0000"}`, `9223372036854775808123`,
	}, "\n") + "\n"
	for _, s := range setups {
		st, rejects := signThenVerify(t, s, []byte(in))
		if st.Lines != 17 {
			t.Errorf("%s: %d lines read", s.name, st.Lines)
		}
		for _, r := range rejects {
			if r.First != r.Last {
				t.Errorf("%s: lines %d-%d rejected together: %v", s.name, r.First, r.Last, r.Err)
			}
		}
	}
}

// In a chunk, only the line that cannot be signed is left out, with its
// own number; a chunk too big for one envelope is reported as its lines.
func TestChunkRejects(t *testing.T) {
	deep := strings.Repeat("[", strictjson.MaxDepth-1) + strings.Repeat("]", strictjson.MaxDepth-1)
	for _, s := range []setup{{name: "hms", chunk: 3}, {name: "legacy", chunk: 3, legacy: true}} {
		_, rejects := signThenVerify(t, s, []byte("1\n"+deep+"\n2\n1e400\n3\n"))
		var got []int64
		for _, r := range rejects {
			got = append(got, r.First)
		}
		want := []int64{2}
		if s.legacy {
			want = []int64{2, 4}
		}
		if len(got) != len(want) || got[0] != 2 || len(got) > 1 && got[1] != 4 {
			t.Errorf("%s: rejected lines %v, want %v", s.name, got, want)
		}
	}
	big := strings.Repeat("x", 700000)
	st, rejects := signThenVerify(t, setup{name: "big", raw: true, chunk: 3}, []byte("a\n"+big+"\n"+big+"\nb\n"))
	if len(rejects) != 1 || rejects[0].First != 1 || rejects[0].Last != 3 || st.Rejected != 3 || st.Envelopes != 1 {
		t.Errorf("chunk over the line limit: %+v, %+v", st, rejects)
	}
}

// FuzzSignThenVerify: for every input, and every way of signing it, what
// the signer writes the verifier accepts.
func FuzzSignThenVerify(f *testing.F) {
	deep := strings.Repeat("[", strictjson.MaxDepth-1) + strings.Repeat("]", strictjson.MaxDepth-1)
	for _, in := range []string{"1\n2\n3\n", `{"b":[1,2.50],"a":"é"}` + "\n\n12a\n", "1e400\n[1e-400]\n", deep + "\n[" + deep + "]\n", "\"\\ud83d\\ude00\"\n\xff\n"} {
		f.Add([]byte(in), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, how uint8) {
		s := setups[int(how)%len(setups)]
		signThenVerify(t, s, in)
	})
}

// syncBuffer is a bytes.Buffer that a test may read while Sign writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A stop (the context cancelled) ends the loop while it waits for input;
// everything read before it was signed, a partial chunk included, and
// written out.
func TestStopWhileWaiting(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error)
	var st Stats
	go func() {
		var err error
		st, err = Sign(ctx, pr, &out, SignOptions{Scheme: setup{}.scheme(t), Chunk: 2})
		done <- err
	}()
	pw.Write([]byte("1\n2\n3\n"))
	// The first envelope is flushed when Sign waits for more input.
	for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), "\n") < 1; {
		if time.Now().After(deadline) {
			t.Fatal("no output while waiting for input")
		}
		time.Sleep(time.Millisecond) // poll, bounded by the deadline
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || st.Lines != 3 || st.Envelopes != 2 || strings.Count(out.String(), "\n") != 2 {
		t.Fatalf("err %v, stats %+v, output %q", err, st, out.String())
	}
}
