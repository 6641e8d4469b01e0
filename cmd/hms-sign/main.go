// Command hms-sign: see 'signcmd' for what it does, or run 'hms-sign --help'.
package main

import (
	"os"

	"github.com/hms-toolkit/hms/cmd/hms-sign/signcmd"
)

func main() { os.Exit(signcmd.Main()) }
