package hms_test

import (
	"flag"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hms-toolkit/hms/cmd/hms-factors/factorscmd"
	"github.com/hms-toolkit/hms/cmd/hms-recv/recvcmd"
	"github.com/hms-toolkit/hms/cmd/hms-send/sendcmd"
	"github.com/hms-toolkit/hms/cmd/hms-sign/signcmd"
	"github.com/hms-toolkit/hms/cmd/hms-store/storecmd"
)

// -update rewrites the golden files inside testdata/script/*.txtar when a
// cmp against them fails (also TESTSCRIPT_UPDATE=1).
var update = flag.Bool("update", os.Getenv("TESTSCRIPT_UPDATE") != "", "update testscript golden files")

// scriptCmds holds the custom script commands; files script_*_test.go add
// theirs in init (fixture servers and the like).
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){}

// scriptSetups run before each script; files script_*_test.go add theirs.
var scriptSetups []func(env *testscript.Env) error

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hms-factors": func() { os.Exit(factorscmd.Main()) },
		"hms-sign":    func() { os.Exit(signcmd.Main()) },
		"hms-send":    func() { os.Exit(sendcmd.Main()) },
		"hms-recv":    func() { os.Exit(recvcmd.Main()) },
		"hms-store":   func() { os.Exit(storecmd.Main()) },
	})
}

// TestScripts runs every testdata/script/*.txtar golden test against the
// five binaries (run in-process by the test binary).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Cmds:                scriptCmds,
		Setup: func(env *testscript.Env) error {
			for _, s := range scriptSetups {
				if err := s(env); err != nil {
					return err
				}
			}
			return nil
		},
	})
}
