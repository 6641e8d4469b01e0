// Package testenv holds what the tests of hms share: the five binaries as
// one multi-call test binary (Main), the test broker (AMQPURL, one
// variable: HMS_TEST_AMQP_URL), queue names of a test's own, the test
// database (through pkg/devdb/devdbtest), polling with a deadline instead of
// sleeping, and the custom commands of the testscript golden tests
// (ScriptCommands, ScriptSetup).
//
// A test that needs a service fails when the service is missing; nothing
// here skips.
package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hms-toolkit/hms/cmd/hms-factors/factorscmd"
	"github.com/hms-toolkit/hms/cmd/hms-recv/recvcmd"
	"github.com/hms-toolkit/hms/cmd/hms-send/sendcmd"
	"github.com/hms-toolkit/hms/cmd/hms-sign/signcmd"
	"github.com/hms-toolkit/hms/cmd/hms-store/storecmd"
)

// Main runs the tests of a package (call it from TestMain). The test binary
// doubles as the five hms binaries: testscript puts hms-factors, hms-sign,
// hms-send, hms-recv and hms-store on $PATH, each the test binary itself,
// built from this repository, which runs the command named by argv[0].
//
// In the test process (not in the commands it runs), AMQP_URL is set to
// AMQPURL() and MONGODB_URI is removed, so that a binary a test starts
// talks to the test broker, and to a database only when the test names one,
// whatever the developer's shell holds.
func Main(m *testing.M) {
	testscript.RunMain(testMain{m}, map[string]func() int{
		"hms-factors": factorscmd.Main,
		"hms-sign":    signcmd.Main,
		"hms-send":    sendcmd.Main,
		"hms-recv":    recvcmd.Main,
		"hms-store":   storecmd.Main,
	})
}

type testMain struct{ m *testing.M }

func (t testMain) Run() int {
	os.Setenv("AMQP_URL", AMQPURL())
	os.Unsetenv("MONGODB_URI")
	return t.m.Run()
}

// RepoRoot returns the root of the repository (the directory of go.mod),
// found upwards from the working directory of the test.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Root is RepoRoot for tests: it fails t when there is none.
func Root(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// pollInterval is how often WaitFor asks again: short against the effects
// awaited (a broker requeueing, a process writing), long enough not to load
// the machine.
const pollInterval = 10 * time.Millisecond

// WaitFor asks cond until it is true or patience has passed, and says
// whether it became true. It is how tests wait for an effect: never a fixed
// sleep.
func WaitFor(patience time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(patience)
	for !cond() {
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(pollInterval)
	}
	return true
}
