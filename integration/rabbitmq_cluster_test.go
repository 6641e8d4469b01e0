package integration

// hms-send and hms-recv against a real three-node RabbitMQ cluster (see
// rabbitmq_cluster_env_test.go), with quorum queues, while nodes stop: what
// hms-send exits 0 for is in the cluster, what hms-recv acks was handled,
// nothing is lost. Each test logs the stall after each node loss: the
// longest time without progress from the stop on (target: under 10s; the
// test fails only past stallLimit, a sign of a client stuck, not of a
// loaded machine).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hms-toolkit/hms/internal/testenv"
	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/devdb"
)

const (
	stallTarget = 10 * time.Second
	stallLimit  = time.Minute
)

func TestRabbitMQCluster(t *testing.T) {
	c := startTestCluster(t)
	// In this order, a node stopped by one test boots again while the next
	// runs (flow control needs only two nodes).
	t.Run("SendNodeStopped", func(t *testing.T) { testClusterSend(t, c) })
	t.Run("FlowControl", func(t *testing.T) { testClusterFlowControl(t, c) })
	t.Run("RecvExecNodeStopped", func(t *testing.T) { testClusterRecvExec(t, c) })
	t.Run("FactorCluster", func(t *testing.T) { testClusterFactoring(t, c) })
	t.Run("WholeClusterRestart", func(t *testing.T) { testClusterRestart(t, c) })
}

// hmsCmd is an hms binary run with the cluster's URLs in AMQP_URL (as a
// deployment would pass them: not in argv), its stderr kept in a file.
func hmsCmd(t *testing.T, urls string, name string, args ...string) (*exec.Cmd, stderrLog) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "AMQP_URL="+urls)
	f := logFile(t, name+".stderr")
	cmd.Stderr = f
	return cmd, stderrLog{f}
}

// stderrLog is a process's stderr, which the test may read as it runs.
type stderrLog struct{ f *os.File }

func (l stderrLog) String() string { return readLog(l.f) }

// runThroughNodeStop runs cmd, stops node i once progress has reached at,
// and waits for cmd to exit 0. The caller holds part of the work back
// until release is called, so that the stop always falls in the middle of
// the work (a fast machine would otherwise finish a whole run while the
// node was still shutting down). With releaseOn empty, release comes once
// the node is down and the stall is measured from the start of the stop;
// otherwise release comes when cmd's stderr shows releaseOn (its report
// of the lost connection) and the stall is measured from then, as the
// held work makes no progress before. It returns the longest stall.
func (c *testCluster) runThroughNodeStop(t *testing.T, cmd *exec.Cmd, stderr stderrLog, progress func() (int64, error), at int64, i int, release func(), releaseOn string) time.Duration {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, time.Minute, fmt.Sprintf("progress to %d", at), func() bool { n, _ := progress(); return n >= at })
	meters := make(chan *stallMeter, 1)
	if releaseOn == "" {
		meters <- meterStalls(progress)
	} else {
		go func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); <-tick.C {
				if strings.Contains(stderr.String(), releaseOn) {
					break
				}
			}
			meters <- meterStalls(progress)
			release()
		}()
	}
	c.stopNode(t, i)
	release()
	meter := <-meters
	err := cmd.Wait()
	stall := meter.stop()
	if err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(cmd.Path), err, stderr)
	}
	t.Logf("%s: %s", filepath.Base(cmd.Path), mqLastLine(stderr.String()))
	return stall
}

// feedHeld gives cmd the lines on stdin: those before trickle at once,
// those from trickle to hold at a bounded rate (so that cmd keeps working
// without running out of them), the rest when release is called.
func feedHeld(t *testing.T, cmd *exec.Cmd, lines []string, trickle, hold int) (release func()) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	var once sync.Once
	go func() {
		defer stdin.Close()
		w := bufio.NewWriter(stdin)
		write := func(ls []string) bool {
			for _, l := range ls {
				w.WriteString(l + "\n")
			}
			return w.Flush() == nil // an error means cmd has died, which its exit status tells
		}
		if !write(lines[:trickle]) {
			return
		}
		const step = 100 // lines per tick: 2,000 a second
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for next := trickle; next < hold; next += step {
			select {
			case <-released:
				write(lines[next:])
				return
			case <-tick.C:
				if !write(lines[next:min(next+step, hold)]) {
					return
				}
			}
		}
		<-released
		write(lines[hold:])
	}()
	release = func() { once.Do(func() { close(released) }) }
	t.Cleanup(release) // a test that fails early leaves no writer behind
	return release
}

// holdLock takes an exclusive flock(2) on path, which a command run with
// flock(1) on the same path then waits for, until the returned release.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { f.Close() }) } // closing drops the lock
	t.Cleanup(release)
	return release
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func openFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// drainCluster consumes everything in q through the cluster and returns
// the lines.
func drainCluster(t *testing.T, urls, q string) []byte {
	t.Helper()
	recv, stderr := hmsCmd(t, urls, "hms-recv", "-q", q, "--quorum", "--drain", "--retry-for", "1m")
	out, err := recv.Output()
	if err != nil {
		t.Fatalf("hms-recv --drain: %v\n%s", err, stderr)
	}
	return out
}

func reportStall(t *testing.T, what string, stall time.Duration) {
	t.Helper()
	verdict := "met"
	if stall >= stallTarget {
		verdict = "MISSED"
	}
	t.Logf("stall after %s: %v (target < %v: %s)", what, stall.Round(time.Millisecond), stallTarget, verdict)
	if stall >= stallLimit {
		t.Errorf("stall after %s: %v: the client seems stuck", what, stall.Round(time.Millisecond))
	}
}

// hms-send of 100,000 lines to a quorum queue while the node it is
// connected to stops: exit 0, every line confirmed and then consumed.
func testClusterSend(t *testing.T, c *testCluster) {
	q := c.queue(t, "send")
	lines := mqLines(100_000, 100)
	send, stderr := hmsCmd(t, c.urls(1, 2, 3), "hms-send", "-q", q, "--quorum", "-v", "--retry-for", "1m")
	release := feedHeld(t, send, lines, 50_000, 80_000)
	inQueue := func() (int64, error) { n, err := c.messages(3, q); return int64(n), err }
	// Node 1 is the one hms-send is connected to: the first URL.
	stall := c.runThroughNodeStop(t, send, stderr, inQueue, 20_000, 1, release, "")
	for _, want := range []string{
		"connection lost node=amqp://guest:xxxxx@127.0.0.1:5791/",
		"connected node=amqp://guest:xxxxx@127.0.0.1:5792/",
		"confirmed 100000, failed 0",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("hms-send's stderr lacks %q:\n%s", want, stderr)
		}
	}
	reportStall(t, "stopping the publisher's node", stall)
	mqRequireAll(t, lines, mqCounts(drainCluster(t, c.urls(2, 3, 1), q)))
}

// hms-recv --exec consuming while its node stops: every message handled at
// least once, the queue empty at the end.
func testClusterRecvExec(t *testing.T, c *testCluster) {
	q := c.queue(t, "exec")
	dir := t.TempDir()
	lines := mqLines(10_000, 100)
	writeLines(t, filepath.Join(dir, "in"), lines)
	fill, stderr := hmsCmd(t, c.urls(), "hms-send", "-q", q, "--quorum")
	fill.Stdin = openFile(t, filepath.Join(dir, "in"))
	if err := fill.Run(); err != nil {
		t.Fatalf("hms-send: %v\n%s", err, stderr)
	}
	out, gate := filepath.Join(dir, "out"), filepath.Join(dir, "gate")
	at := int64(len(lines) * 101 / 4)
	release := holdLock(t, gate)
	// Once a quarter is written, each batch waits for the gate.
	handle := fmt.Sprintf("cat >> '%s'; [ $(wc -c < '%s') -lt %d ] || flock '%s' true", out, out, at, gate)
	recv, stderr := hmsCmd(t, c.urls(2, 3, 1), "hms-recv", "-q", q, "--quorum", "--drain", "-v", "--retry-for", "1m",
		"--batch", "100", "--exec", handle)
	// Node 2 is the one hms-recv is connected to: the first URL.
	const lost = "connection lost; unacked messages go back to the queue node=amqp://guest:xxxxx@127.0.0.1:5792/"
	stall := c.runThroughNodeStop(t, recv, stderr, fileSize(out), at, 2, release, lost)
	if !strings.Contains(stderr.String(), lost) {
		t.Errorf("hms-recv's stderr does not say which node it lost:\n%s", stderr)
	}
	reportStall(t, "stopping the consumer's node", stall)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := mqCounts(data)
	mqRequireAll(t, lines, got)
	t.Logf("%d messages handled, %d of them twice or more (at-least-once)", len(lines), bytes.Count(data, []byte{'\n'})-len(got))
	if n, err := c.messages(3, q); err != nil || n != 0 {
		t.Fatalf("%d messages left in the queue (%v), want 0", n, err)
	}
}

// The whole cluster stopped and started again while hms-send publishes and
// hms-recv consumes: nothing lost. hms-send gets a third of its input as
// the cluster stops, and the last third only once it is down: it is
// mid-stream for sure, and must wait for the cluster to come back.
func testClusterRestart(t *testing.T, c *testCluster) {
	c.allUp(t)
	q := c.queue(t, "restart")
	dir := t.TempDir()
	lines := mqLines(30_000, 100)
	out := filepath.Join(dir, "out")
	outf, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer outf.Close()
	send, sendErr := hmsCmd(t, c.urls(), "hms-send", "-q", q, "--quorum", "-v", "--retry-for", "3m")
	in, err := send.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	recv, recvErr := hmsCmd(t, c.urls(3, 2, 1), "hms-recv", "-q", q, "--quorum", "-v", "--retry-for", "3m")
	recv.Stdout = outf
	for _, cmd := range []*exec.Cmd{send, recv} {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
	}
	first := len(lines) / 3
	io.WriteString(in, strings.Join(lines[:first], "\n")+"\n")
	handled := fileSize(out)
	waitFor(t, time.Minute, "a quarter of the lines received", func() bool { n, _ := handled(); return n >= int64(len(lines)*101/4) })
	down := make(chan struct{})
	go func() {
		io.WriteString(in, strings.Join(lines[first:2*first], "\n")+"\n")
		<-down
		io.WriteString(in, strings.Join(lines[2*first:], "\n")+"\n") // taken in as it can publish
		in.Close()
	}()
	meter := meterStalls(handled)
	stopping := time.Now()
	c.run(t, "stop")
	t.Cleanup(func() { c.run(t, "start") })
	stopped := time.Since(stopping)
	close(down)
	c.run(t, "start")
	t.Logf("cluster stopped in %v, started again in %v", stopped.Round(time.Millisecond), (time.Since(stopping) - stopped).Round(time.Millisecond))
	if err := send.Wait(); err != nil {
		t.Fatalf("hms-send: %v\n%s", err, sendErr)
	}
	t.Logf("hms-send: %s", mqLastLine(sendErr.String()))
	if !strings.Contains(sendErr.String(), "cannot connect to any of the 3 nodes, retrying") {
		t.Errorf("hms-send did not wait for the cluster:\n%s", sendErr)
	}
	var got map[string]int
	waitFor(t, 2*time.Minute, "every line received", func() bool {
		if n, _ := handled(); n < int64(len(lines)*101) {
			return false // not yet a line per line sent: no need to count
		}
		data, _ := os.ReadFile(out)
		got = mqCounts(data)
		return len(got) >= len(lines)
	})
	outage := meter.stop()
	recv.Process.Signal(syscall.SIGTERM)
	if err := recv.Wait(); exitCode(err) != 143 {
		t.Fatalf("hms-recv after SIGTERM: %v, want exit 143\n%s", err, recvErr)
	}
	t.Logf("hms-recv: %s", mqLastLine(recvErr.String()))
	mqRequireAll(t, lines, got)
	t.Logf("the consumer's longest wait: %v (the cluster's restart included)", outage.Round(time.Millisecond))
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// A memory alarm on one node blocks every publisher of the cluster:
// hms-send says so once, with the broker's reason, waits, and finishes
// when the alarm is lifted, the time blocked in its summary. Stopped while
// blocked, it waits no longer than --stop-grace.
func testClusterFlowControl(t *testing.T, c *testCluster) {
	q := c.queue(t, "flow")
	dir := t.TempDir()
	lines := mqLines(2000, 100)
	writeLines(t, filepath.Join(dir, "in"), lines)
	raise := func() {
		c.ctl(t, 3, "-q", "set_vm_memory_high_watermark", "0") // node 3 only
		t.Cleanup(func() { c.liftAlarm(t, 3) })
	}
	const blockedMsg = "warning: the broker blocks publishing (flow control); waiting"

	raise()
	send, stderr := hmsCmd(t, c.urls(1, 2, 3), "hms-send", "-q", q, "--quorum", "-v")
	send.Stdin = openFile(t, filepath.Join(dir, "in"))
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	defer send.Process.Kill()
	waitFor(t, 30*time.Second, "hms-send blocked", func() bool { return strings.Contains(stderr.String(), blockedMsg) })
	c.liftAlarm(t, 3)
	if err := send.Wait(); err != nil {
		t.Fatalf("hms-send: %v\n%s", err, stderr)
	}
	t.Logf("hms-send:\n%s", stderr)
	if n := strings.Count(stderr.String(), blockedMsg); n != 1 {
		t.Errorf("said %d times that the broker blocks it, want once", n)
	}
	for _, want := range []string{"reason=", "confirmed 2000, failed 0", "by the broker (flow control)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("hms-send's stderr lacks %q", want)
		}
	}

	// Interrupted while blocked: the broker holds the confirms back, so the
	// stop grace runs out; exit 130, every line not confirmed in --failed
	// (the first run's lines are all in the queue).
	raise()
	failed := filepath.Join(dir, "failed")
	const grace = 2 * time.Second
	send, stderr = hmsCmd(t, c.urls(2, 3, 1), "hms-send", "-q", q, "--quorum", "--failed", failed, "--stop-grace", grace.String())
	send.Stdin = openFile(t, filepath.Join(dir, "in"))
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	defer send.Process.Kill()
	waitFor(t, 30*time.Second, "hms-send blocked", func() bool { return strings.Contains(stderr.String(), blockedMsg) })
	stopping := time.Now()
	send.Process.Signal(syscall.SIGINT)
	err := send.Wait()
	stopped := time.Since(stopping)
	t.Logf("stopped in %v (--stop-grace %v):\n%s", stopped.Round(time.Millisecond), grace, stderr)
	if exitCode(err) != 130 {
		t.Fatalf("hms-send after SIGINT while blocked: %v, want exit 130", err)
	}
	if stopped > grace+amqpconn.CloseTimeout+5*time.Second {
		t.Fatalf("took %v to stop, with --stop-grace %v", stopped, grace)
	}
	c.liftAlarm(t, 3)
	notSent, err := os.ReadFile(failed)
	if err != nil {
		t.Fatal(err)
	}
	got := mqCounts(drainCluster(t, c.urls(), q))
	for l, n := range mqCounts(notSent) {
		got[l] += n
	}
	for _, l := range lines {
		if got[l] < 2 {
			t.Fatalf("line %.12s... is neither in the queue nor in --failed after the second run", l)
		}
	}
}

// The factoring cluster (orchestrator, two workers, dispatcher, through
// scripts/cluster/) on quorum queues, while node 1, which every part
// connects to first, stops and starts again: one correct document per number.
func testClusterFactoring(t *testing.T, c *testCluster) {
	const n = 10_000
	const first = uint64(1) << 62
	dir := t.TempDir()
	db, err := devdb.Start(devdb.Options{Addr: "127.0.0.1:0", Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Stop()
	work, results := c.queue(t, "work"), c.queue(t, "results")
	env, ring := factoringEnv(t, dir, c.urls(), db.URI(), work, results)
	env = append(env, "HMS_QUEUE_FLAGS=--quorum", "HMS_CHUNK=100")
	scripts := filepath.Join(testenv.Root(t), "scripts", "cluster")
	procs := newProcSet(t, dir, env)
	defer procs.stopAll()
	procs.start("dispatcher", filepath.Join(scripts, "dispatcher.sh"))
	procs.start("worker-a", filepath.Join(scripts, "worker.sh"))
	procs.start("worker-b", filepath.Join(scripts, "worker.sh"))
	var nums bytes.Buffer
	for i := range uint64(n) {
		nums.WriteString(strconv.FormatUint(first+i, 10) + "\n")
	}
	started := time.Now()
	orch := exec.Command(filepath.Join(scripts, "orchestrate.sh"))
	orch.Dir, orch.Env, orch.Stdin = dir, env, &nums
	if out, err := orch.CombinedOutput(); err != nil {
		t.Fatalf("orchestrator: %v\n%s", err, out)
	}

	stored := func() (int64, error) { return procs.inserted("dispatcher"), nil }
	waitStored := func(at int64) {
		waitFor(t, 3*time.Minute, fmt.Sprintf("%d documents stored", at), func() bool {
			procs.checkAlive()
			k, _ := stored()
			return k >= at
		})
	}
	waitStored(n * 3 / 10)
	meter := meterStalls(stored)
	c.stopNode(t, 1)
	waitStored(n * 6 / 10)
	reportStall(t, "stopping node 1 under the factoring cluster", meter.stop())
	meter = meterStalls(stored)
	c.startNode(t, 1)
	waitStored(n)
	t.Logf("longest stall after node 1 came back (its boot takes CPU from the rest): %v", meter.stop().Round(time.Millisecond))
	t.Logf("%d numbers stored in %v", n, time.Since(started).Round(time.Millisecond))
	procs.stopAll()
	procs.waitGone(2 * time.Minute)
	left := drainLeftovers(t, c.channel(t, 2), dir, ring, work, results)
	verifySample(t, n, verifyStore(t, db.URI(), first, n, left))
}
