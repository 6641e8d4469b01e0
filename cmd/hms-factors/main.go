// Command hms-factors: see 'factorscmd' for what it does, or run 'hms-factors --help'.
package main

import (
	"os"

	"github.com/hms-toolkit/hms/cmd/hms-factors/factorscmd"
)

func main() { os.Exit(factorscmd.Main()) }
