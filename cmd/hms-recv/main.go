// Command hms-recv: see 'recvcmd' for what it does, or run 'hms-recv --help'.
package main

import (
	"os"

	"github.com/hms-toolkit/hms/cmd/hms-recv/recvcmd"
)

func main() { os.Exit(recvcmd.Main()) }
