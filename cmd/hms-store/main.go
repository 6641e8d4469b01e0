// Command hms-store: see 'storecmd' for what it does, or run 'hms-store --help'.
package main

import (
	"os"

	"github.com/hms-toolkit/hms/cmd/hms-store/storecmd"
)

func main() { os.Exit(storecmd.Main()) }
