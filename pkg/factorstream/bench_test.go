package factorstream

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"testing"
)

// go test -run '^$' -bench . ./pkg/factorstream/

func benchRun(b *testing.B, first, count uint64, opt Options) {
	var in []byte
	for n := first; n < first+count; n++ {
		in = strconv.AppendUint(in, n, 10)
		in = append(in, '\n')
	}
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), bytes.NewReader(in), io.Discard, io.Discard, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// The I/O-bound case: 100,000 numbers from 10^7, GNU factor's format.
func BenchmarkRun1e7Factor1Worker(b *testing.B) {
	benchRun(b, 1e7, 100000, Options{Format: Factor, Workers: 1})
}

func BenchmarkRun1e7Factor2Workers(b *testing.B) {
	benchRun(b, 1e7, 100000, Options{Format: Factor, Workers: 2})
}

func BenchmarkRun1e7Divisors2Workers(b *testing.B) {
	benchRun(b, 1e7, 100000, Options{Format: Divisors, Workers: 2})
}
