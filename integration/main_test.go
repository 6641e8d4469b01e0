// Package integration holds the multi-process tests of hms: the binaries
// run as separate processes against the test broker and databases, with
// faults injected (connections cut, processes killed, the database stopped).
// The binaries are this test binary itself (testenv.Main), so they are built
// from the repository with the tests.
package integration

import (
	"testing"

	"github.com/hms-toolkit/hms/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
