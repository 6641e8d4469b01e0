// Package factorscmd is the command line of hms-factors. Main is separate from
// package main so the testscript harness can run it in-process.
package factorscmd

import (
	"os"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// Main runs hms-factors with os.Args and returns its exit status.
func Main() int {
	app := cmdutil.NewApp("hms-factors", "TODO")
	return cmdutil.Run(app, os.Args)
}
