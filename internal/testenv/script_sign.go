package testenv

// Script support for the hms-sign tests (sign_*.txtar):
//
//	sign-bigline OUT N BEFORE AFTER   write file BEFORE, a line of N 'x' bytes, then file AFTER to OUT
//	sign-mode FILE PERM               fail unless FILE has permission bits PERM (octal)

import (
	"bufio"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

func signBigline(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: sign-bigline OUT N BEFORE AFTER")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	f, err := os.Create(ts.MkAbs(args[0]))
	ts.Check(err)
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(ts.ReadFile(args[2]))
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}
	for left := n; left > 0; left -= len(chunk) {
		w.Write(chunk[:min(left, len(chunk))])
	}
	w.WriteString("\n" + ts.ReadFile(args[3]))
	ts.Check(w.Flush())
	ts.Check(f.Close())
}

func signMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sign-mode FILE PERM")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := fi.Mode().Perm(); (uint64(got) == want) == neg {
		ts.Fatalf("%s has mode %04o (want %s%04o)", args[0], got, map[bool]string{true: "not "}[neg], want)
	}
}
