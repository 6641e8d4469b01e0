// Package sendcmd is the command line of hms-send. Main is separate from
// package main so the testscript harness can run it in-process.
package sendcmd

import (
	"os"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// Main runs hms-send with os.Args and returns its exit status.
func Main() int {
	app := cmdutil.NewApp("hms-send", "TODO")
	return cmdutil.Run(app, os.Args)
}
