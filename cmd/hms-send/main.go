// Command hms-send: see 'sendcmd' for what it does, or run 'hms-send --help'.
package main

import (
	"os"

	"github.com/hms-toolkit/hms/cmd/hms-send/sendcmd"
)

func main() { os.Exit(sendcmd.Main()) }
