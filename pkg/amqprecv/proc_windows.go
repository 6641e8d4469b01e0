package amqprecv

import (
	"os"
	"os/exec"
	"syscall"
)

// inOwnGroup does nothing: Windows has no process groups to signal.
func inOwnGroup(*exec.Cmd) {}

// signalGroup kills p: Windows can neither ask a process to terminate nor
// reach its children.
func signalGroup(p *os.Process, _ syscall.Signal) {
	p.Kill()
}
