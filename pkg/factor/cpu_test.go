package factor

import (
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// cpuTime reports the CPU time per operation of a benchmark as cpu-ns/op
// beside the wall time: on a machine shared with other work it is the
// steadier of the two. Call it after setup; it stops at the returned
// function.
func cpuTime(b *testing.B) (stop func()) {
	runtime.LockOSThread()
	b.ResetTimer()
	start := threadCPU()
	return func() {
		b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

// threadCPU returns the CPU time of the calling thread, in nanoseconds
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID), exact to the nanosecond where
// getrusage counts in ticks).
func threadCPU() int64 {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		panic(e)
	}
	return ts.Nano()
}
