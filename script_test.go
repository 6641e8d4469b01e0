package hms_test

import (
	"flag"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hms-toolkit/hms/internal/testenv"
)

// -update rewrites the golden files inside testdata/script/*.txtar when a
// cmp against them fails (also TESTSCRIPT_UPDATE=1).
var update = flag.Bool("update", os.Getenv("TESTSCRIPT_UPDATE") != "", "update testscript golden files")

func TestMain(m *testing.M) { testenv.Main(m) }

// TestScripts runs every testdata/script/*.txtar golden test against the
// five binaries (the test binary itself, see testenv.Main). The custom
// commands, 'queue' and 'mongodb' among them, are testenv's.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Cmds:                testenv.ScriptCommands(),
		Setup:               testenv.ScriptSetup,
	})
}
