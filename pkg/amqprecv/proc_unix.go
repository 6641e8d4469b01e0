//go:build unix

package amqprecv

import (
	"os"
	"syscall"
)

// signalGroup sends sig to the process group that p leads.
func signalGroup(p *os.Process, sig syscall.Signal) {
	syscall.Kill(-p.Pid, sig)
}
