package hms_test

// Script support for the gateway's replay tests (gateway_*.txtar):
//
//	gw-sign KEYFILE OPERATION ID DATAFILE   print an envelope of the data in
//	                                        DATAFILE signed with KEYFILE under
//	                                        the envelope id ID (hms-sign picks
//	                                        fresh ids: this reuses one, as a
//	                                        forger or a careless sender would)

import (
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hms-toolkit/hms/pkg/message"
)

func init() {
	scriptCmds["gw-sign"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 4 {
			ts.Fatalf("usage: gw-sign KEYFILE OPERATION ID DATAFILE")
		}
		key, err := message.LoadKey(ts.MkAbs(args[0]))
		ts.Check(err)
		s, err := message.NewSigner(key)
		ts.Check(err)
		line, err := s.AppendSignID(nil, args[2], args[1], []byte(ts.ReadFile(args[3])), time.Now())
		ts.Check(err)
		_, err = ts.Stdout().Write(append(line, '\n'))
		ts.Check(err)
	}
}
