// Package recvcmd is the command line of hms-recv. Main is separate from
// package main so the testscript harness can run it in-process.
package recvcmd

import (
	"os"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// Main runs hms-recv with os.Args and returns its exit status.
func Main() int {
	app := cmdutil.NewApp("hms-recv", "TODO")
	return cmdutil.Run(app, os.Args)
}
