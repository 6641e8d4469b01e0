// Package signcmd is the command line of hms-sign. Main is separate from
// package main so the testscript harness can run it in-process.
package signcmd

import (
	"os"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// Main runs hms-sign with os.Args and returns its exit status.
func Main() int {
	app := cmdutil.NewApp("hms-sign", "TODO")
	return cmdutil.Run(app, os.Args)
}
