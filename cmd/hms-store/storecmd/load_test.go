package storecmd

import (
	"errors"
	"flag"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/store"
)

// What the summary of an early stop says, and the way to finish the job.
func TestRerun(t *testing.T) {
	ctx := func(failed string) *cli.Context {
		fs := flag.NewFlagSet("upsert", flag.ContinueOnError)
		fs.String("failed", failed, "")
		c := cli.NewContext(&cli.App{Name: "hms-store"}, fs, nil)
		c.Command = &cli.Command{Name: "upsert"}
		return c
	}
	cut := errors.New("stop grace over: 10s passed after the stop signal")
	for _, tc := range []struct {
		name        string
		st          store.Stats
		failed      string
		failedN     int64
		newIDs      bool
		cut         error
		where, hint string
	}{
		{"cut short, input not all read", store.Stats{NotStored: 380, MaybeStored: 16, FirstNotStored: 121, LastLine: 500}, "", 0, false, cut,
			"380 of the lines read were not stored, from line 121 on (the server may have stored the 16 of the write cut short; stop grace over: 10s passed after the stop signal); the input after line 500 was not read",
			"run again from line 121: tail -n +121 INPUT | hms-store upsert ...; storing a line again changes nothing, so running again is harmless"},
		{"all read stored", store.Stats{LastLine: 7}, "", 0, false, nil,
			"every line read was stored or rejected; the input after line 7 was not read",
			"run again from line 8: tail -n +8 INPUT | hms-store upsert ...; storing a line again changes nothing, so running again is harmless"},
		{"--failed, input read to the end", store.Stats{NotStored: 1, FirstNotStored: 3, LastLine: 9, AtEOF: true}, "rest", 1, false, nil,
			"1 of the lines read was not stored, from line 3 on; the 1 line not stored is in rest",
			"store rest: hms-store upsert ... < rest; storing a line again changes nothing, so running again is harmless"},
		{"--failed, input not read to the end", store.Stats{NotStored: 2, FirstNotStored: 3, LastLine: 9}, "rest", 2, true, nil,
			"2 of the lines read were not stored, from line 3 on; the input after line 9 was not read; the 2 lines not stored are in rest",
			"store rest, then the input from line 10 on (tail -n +10 INPUT | hms-store upsert ...); but with --new-ids a line stored again is stored twice"},
	} {
		r := &loadRun{c: ctx(tc.failed), o: &store.LoadOptions{NewIDs: tc.newIDs}, failedN: tc.failedN}
		where, hint := r.rerun(tc.st, tc.cut)
		if where != tc.where || hint != tc.hint {
			t.Errorf("%s:\n got  %s\n      %s\n want %s\n      %s", tc.name, where, hint, tc.where, tc.hint)
		}
	}
}
