package amqprecv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests of killing whole process groups look into /proc.

// groupGone waits until no live process is left in process group pgid.
func groupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !groupAlive(pgid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process group %d still has live processes", pgid)
}

// groupAlive reports whether a process of group pgid runs (zombies, which
// only wait to be reaped, do not count).
func groupAlive(pgid int) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRunCommandTimeoutKillsTheGroup(t *testing.T) {
	bg := context.Background()
	pidFile := filepath.Join(t.TempDir(), "pid")
	// A pipeline: SIGTERM to sh alone would leave both sleeps running.
	start := time.Now()
	res, _ := runSh(t, bg, bg, ExecOptions{Command: "echo $$ > " + pidFile + "; sleep 600 | sleep 600", Timeout: 200 * time.Millisecond}, "")
	if !res.timedOut || res.stopped || res.status != 128+int(syscall.SIGTERM) {
		t.Fatalf("%+v", res)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v", el)
	}
	groupGone(t, readPID(t, pidFile))
}

func TestRunCommandStopped(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	work, cut := context.WithCancel(context.Background())
	pidFile := filepath.Join(t.TempDir(), "pid")
	stopping := make(chan struct{})
	go func() {
		// Once the command ignores SIGTERM, the signal comes (ctx), then
		// the grace ends (work).
		for _, err := os.Stat(pidFile); err != nil; _, err = os.Stat(pidFile) {
			time.Sleep(time.Millisecond)
		}
		stop()
		<-stopping // ctx ended while the command ran: it was told so
		cut()
	}()
	// A command that ignores SIGTERM gets SIGKILL after the kill delay.
	res, _ := runSh(t, ctx, work, ExecOptions{
		Command:   "trap '' TERM; echo $$ > " + pidFile + ".new; mv " + pidFile + ".new " + pidFile + "; sleep 600",
		KillDelay: 100 * time.Millisecond,
		Stopping:  func() { close(stopping) },
	}, "")
	if !res.stopped || res.timedOut || res.status != 128+int(syscall.SIGKILL) {
		t.Fatalf("%+v", res)
	}
	groupGone(t, readPID(t, pidFile))
}
