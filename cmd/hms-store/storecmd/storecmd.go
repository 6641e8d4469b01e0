// Package storecmd is the command line of hms-store. Main is separate from
// package main so the testscript harness can run it in-process.
package storecmd

import (
	"os"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// Main runs hms-store with os.Args and returns its exit status.
func Main() int {
	app := cmdutil.NewApp("hms-store", "TODO")
	return cmdutil.Run(app, os.Args)
}
