//go:build unix && !linux

package amqprecv

import (
	"os/exec"
	"syscall"
)

// inOwnGroup makes cmd lead a process group of its own.
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
