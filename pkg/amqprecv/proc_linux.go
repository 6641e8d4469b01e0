package amqprecv

import (
	"os/exec"
	"syscall"
)

// inOwnGroup makes cmd lead a process group of its own, which gets
// SIGTERM if hms-recv dies first (SIGKILL, OOM): the broker requeues the
// batch then, so the command must not go on with it.
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
