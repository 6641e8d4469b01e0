package integration

// Fault-injection tests for hms-send and hms-recv against the test broker:
// connections cut mid-stream by a proxy, a consumer killed with SIGKILL in
// the middle of a batch, a downstream command that fails, a SIGTERM. They
// check by message body that every line hms-send exited 0 for is consumed
// at least once and that nothing is acked before it was handled. Delivery
// is at-least-once, so they count what comes out at least, never exactly,
// where a fault may legitimately deliver a message twice, and they look at
// a queue only once the broker has released every consumer's deliveries.
// The binaries are the test binary itself, on $PATH (testenv.Main).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/internal/testenv"
)

// patience bounds the waits for a process to show an effect.
const patience = time.Minute

// mqLines returns n distinct lines of about size bytes.
func mqLines(n, size int) []string {
	ls := make([]string, n)
	for i := range ls {
		id := fmt.Sprintf("msg-%06d-", i+1)
		ls[i] = id + strings.Repeat("p", max(0, size-len(id)))
	}
	return ls
}

// mqFill publishes lines to q with hms-send (so q is declared the way hms
// declares it).
func mqFill(t *testing.T, q string, lines []string) {
	t.Helper()
	cmd := exec.Command("hms-send", "-q", q)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hms-send: %v\n%s", err, out)
	}
}

// mqCounts returns how many times each line occurs in data.
func mqCounts(data []byte) map[string]int {
	m := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m[sc.Text()]++
	}
	return m
}

// mqAddBodies counts the bodies of ds into got.
func mqAddBodies(got map[string]int, ds []amqp.Delivery) {
	for _, d := range ds {
		got[string(d.Body)]++
	}
}

func mqRequireAll(t *testing.T, lines []string, got map[string]int) {
	t.Helper()
	missing := 0
	for _, l := range lines {
		if got[l] == 0 {
			if missing < 5 {
				t.Errorf("line %.12s... was never consumed", l)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d lines lost", missing, len(lines))
	}
	for l := range got {
		if !strings.HasPrefix(l, "msg-") {
			t.Fatalf("unexpected line %q", l)
		}
	}
}

func mqLastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// mqRest returns what is left in q once the broker has released every
// consumer. After a consumer's connection was cut, the broker requeues its
// unacked deliveries only when it notices, which can be after hms-recv
// --drain, reconnected, found nothing ready and stopped: such messages were
// never handled and must be there, so they count as consumed by a later
// run. Anything hms-recv lost (acked unhandled) is in neither place.
func mqRest(t *testing.T, ch *amqp.Channel, q string) []amqp.Delivery {
	t.Helper()
	testenv.WaitUnconsumed(t, ch, q)
	rest := testenv.Drain(t, ch, q)
	if len(rest) > 0 {
		t.Logf("%d messages became ready again after hms-recv --drain stopped (requeued late by the broker)", len(rest))
	}
	return rest
}

// TestAMQPCuttingProxy sends through a proxy that cuts each of the first
// connections mid-stream, then receives through another one that does the
// same: hms-send must exit 0 and every line must come out.
func TestAMQPCuttingProxy(t *testing.T) {
	q := testenv.Queue(t)
	ch := testenv.Channel(t)
	// Well-formed envelopes (signatures of the right form, not checked by
	// hms-send): their "id" becomes the AMQP message-id, which must survive
	// re-publishing unchanged.
	lines := mqLines(20000, 200)
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l[:10]
		lines[i] = fmt.Sprintf(`{"id":%q,"ts":"2026-11-26T12:00:00Z","origin":"test","operation":"test","data":%q,"kid":"k","signature":"%064x"}`, ids[i], l, i)
	}

	ps, sendURL := testenv.AMQPProxy(t)
	ps.CutAfter(400<<10, 5)
	send := exec.Command("hms-send", "-q", q, "--url", sendURL, "-v", "--retry-for", "1m", "--window", "256")
	send.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var sendErr bytes.Buffer
	send.Stderr = &sendErr
	if err := send.Run(); err != nil {
		t.Fatalf("hms-send: %v\n%s", err, sendErr.String())
	}
	t.Logf("hms-send: %s", strings.TrimSpace(sendErr.String()))
	if ps.Cuts() < 5 {
		t.Fatalf("the proxy cut %d connections, want 5", ps.Cuts())
	}
	if !strings.Contains(sendErr.String(), "confirmed 20000, failed 0") {
		t.Fatalf("summary: %s", sendErr.String())
	}
	// At least: a publish the broker took but whose confirm a cut lost is
	// published again.
	if n := testenv.Ready(t, ch, q); n < len(lines) {
		t.Fatalf("%d messages in the queue after hms-send exited 0, want at least %d", n, len(lines))
	}

	pr, recvURL := testenv.AMQPProxy(t)
	pr.CutAfter(400<<10, 5)
	recv := exec.Command("hms-recv", "-q", q, "--url", recvURL, "--drain", "-v", "--retry-for", "1m", "--format", "json")
	var out, recvErr bytes.Buffer
	recv.Stdout, recv.Stderr = &out, &recvErr
	if err := recv.Run(); err != nil {
		t.Fatalf("hms-recv: %v\n%s", err, recvErr.String())
	}
	t.Logf("hms-recv: %s", mqLastLine(recvErr.String()))
	if pr.Cuts() < 5 {
		t.Fatalf("the proxy cut %d consumer connections, want 5", pr.Cuts())
	}
	// Every message-id sent comes out, with its own body.
	got := map[string]int{}
	check := func(id, body string) {
		if !strings.Contains(body, `"id":"`+id+`"`) {
			t.Fatalf("message-id %q on body %.40s...", id, body)
		}
		got[id]++
	}
	dec := json.NewDecoder(&out)
	for dec.More() {
		var m struct {
			Body      string `json:"body"`
			MessageID string `json:"message_id"`
		}
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		check(m.MessageID, m.Body)
	}
	for _, d := range mqRest(t, ch, q) {
		check(d.MessageId, string(d.Body))
	}
	for _, id := range ids {
		if got[id] == 0 {
			t.Fatalf("message-id %s was confirmed to hms-send but never consumed (%d of %d ids seen)", id, len(got), len(ids))
		}
	}
}

// TestAMQPKilledMidBatch kills hms-recv with SIGKILL while its command
// handles a batch: the batch must come again (it was not acked) and, after
// a second run, every message must have been handled.
func TestAMQPKilledMidBatch(t *testing.T) {
	q := testenv.Queue(t)
	ch := testenv.Channel(t)
	lines := mqLines(500, 100)
	mqFill(t, q, lines)

	dir := t.TempDir()
	handled := filepath.Join(dir, "handled")
	started := filepath.Join(dir, "started")
	// The first batch blocks in the command until the test releases it
	// (whether or not the kill reached the command too).
	release := filepath.Join(dir, "release")
	if err := syscall.Mkfifo(release, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unblockFIFO(release) })
	script := fmt.Sprintf(`cat >> %s; if [ ! -e %s ]; then touch %s; read _ < %s; fi`, handled, started, started, release)
	recv := exec.Command("hms-recv", "-q", q, "--exec", script, "--batch", "50", "--batch-wait", "1m")
	recv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	recvErr := logFile(t, "recv1.log")
	recv.Stderr = recvErr
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	if !testenv.WaitFor(patience, func() bool { _, err := os.Stat(started); return err == nil }) {
		syscall.Kill(-recv.Process.Pid, syscall.SIGKILL)
		recv.Wait()
		t.Fatalf("the first batch never started\n%s", readLog(recvErr))
	}
	syscall.Kill(-recv.Process.Pid, syscall.SIGKILL)
	recv.Wait()
	// The broker requeues the unacked messages once it sees the consumer go.
	testenv.WaitUnconsumed(t, ch, q)
	if n := testenv.Ready(t, ch, q); n != len(lines) {
		t.Fatalf("%d messages ready after the kill, want %d (an ack went out before the batch was handled?)", n, len(lines))
	}

	recv2 := exec.Command("hms-recv", "-q", q, "--exec", script, "--batch", "50", "--drain", "-v")
	if out, err := recv2.CombinedOutput(); err != nil {
		t.Fatalf("second hms-recv: %v\n%s", err, out)
	}
	data, err := os.ReadFile(handled)
	if err != nil {
		t.Fatal(err)
	}
	got := mqCounts(data)
	mqRequireAll(t, lines, got)
	for _, l := range lines[:50] {
		if got[l] < 2 {
			t.Fatalf("%.10s... handled %d times, want at least 2 (once by the killed run, once again)", l, got[l])
		}
	}
	testenv.WaitReady(t, ch, q, 0)
}

// unblockFIFO lets a reader blocked on the FIFO at path go on (it reads
// EOF), without blocking when there is none.
func unblockFIFO(path string) {
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
		f.Close()
	}
}

// logFile returns a file for a process's stderr: unlike a bytes.Buffer, it
// does not make Wait wait for whatever inherited the stream.
func logFile(t *testing.T, name string) *os.File {
	f, err := os.Create(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readLog(f *os.File) string {
	data, _ := os.ReadFile(f.Name())
	return string(data)
}

// TestAMQPFailingCommand: a command that fails every other run, with the
// consumer's connection cut now and then: every message is handled by a
// successful run, and the queue ends empty.
func TestAMQPFailingCommand(t *testing.T) {
	q := testenv.Queue(t)
	ch := testenv.Channel(t)
	lines := mqLines(1000, 100)
	mqFill(t, q, lines)

	dir := t.TempDir()
	handled := filepath.Join(dir, "handled")
	counter := filepath.Join(dir, "runs")
	script := fmt.Sprintf(`n=$(cat %[1]s 2>/dev/null || echo 0); echo $((n+1)) > %[1]s
if [ $((n %% 2)) -eq 0 ]; then cat > /dev/null; echo "failing run $n" >&2; exit 1; fi
cat >> %[2]s`, counter, handled)
	p, recvURL := testenv.AMQPProxy(t)
	p.CutAfter(30<<10, 3)
	recv := exec.Command("hms-recv", "-q", q, "--url", recvURL, "--exec", script,
		"--batch", "100", "--backoff", "5ms", "--drain", "-v", "--retry-for", "1m")
	out, err := recv.CombinedOutput()
	if err != nil {
		t.Fatalf("hms-recv: %v\n%s", err, out)
	}
	t.Logf("hms-recv: %s (proxy cuts: %d)", mqLastLine(string(out)), p.Cuts())
	if !bytes.Contains(out, []byte("batch requeued")) {
		t.Fatalf("no failed batch was requeued:\n%s", out)
	}
	data, err := os.ReadFile(handled)
	if err != nil {
		t.Fatal(err)
	}
	got := mqCounts(data)
	mqAddBodies(got, mqRest(t, ch, q))
	mqRequireAll(t, lines, got)
}

// TestAMQPSigterm: SIGTERM stops hms-recv cleanly (exit 143, 128+SIGTERM,
// the one rule for signals): what it wrote is acked, the rest is back in
// the queue: every line is in exactly one of the two.
func TestAMQPSigterm(t *testing.T) {
	t.Run("exec", func(t *testing.T) {
		testSigterm(t, "--prefetch", "10", "--exec", "cat; exec sleep 0.05", "--batch", "10")
	})
	t.Run("stdout", func(t *testing.T) { testSigterm(t, "--prefetch", "1") })
}

func testSigterm(t *testing.T, args ...string) {
	q := testenv.Queue(t)
	ch := testenv.Channel(t)
	lines := mqLines(5000, 100)
	mqFill(t, q, lines)

	// A reader that stops reading once the first line came: hms-recv blocks
	// on a full pipe, so the signal comes mid-stream however fast it runs.
	recv := exec.Command("hms-recv", append([]string{"-q", q}, args...)...)
	recvErr := logFile(t, "recv.log")
	recv.Stderr = recvErr
	out := startHeld(t, recv, 1)
	if !out.waitHeld(patience) {
		recv.Process.Kill()
		t.Fatalf("nothing consumed\n%s", readLog(recvErr))
	}
	recv.Process.Signal(syscall.SIGTERM)
	data := out.rest()
	if err := recv.Wait(); recv.ProcessState.ExitCode() != 143 {
		t.Fatalf("hms-recv after SIGTERM: %v, want exit status 143\n%s", err, readLog(recvErr))
	}
	written := mqCounts(data)
	left := map[string]int{}
	testenv.WaitUnconsumed(t, ch, q)
	mqAddBodies(left, testenv.Drain(t, ch, q))
	for l := range written {
		if left[l] > 0 {
			t.Fatalf("%.10s... was written and is still queued: a written line was not acked", l)
		}
	}
	all := map[string]int{}
	for _, m := range []map[string]int{written, left} {
		for l, c := range m {
			all[l] += c
		}
	}
	mqRequireAll(t, lines, all)
	if len(written) == len(lines) {
		t.Fatalf("written %d of %d: the test did not stop hms-recv mid-stream", len(written), len(lines))
	}
	t.Logf("written %d, back in the queue %d", len(written), len(left))
}

// heldReader is the stdout of a process: it reads until it has hold bytes,
// then stops reading (the process blocks once the pipe is full) until rest
// is called.
type heldReader struct {
	pr      *os.File
	held    chan struct{}
	resume  chan struct{}
	done    chan []byte
	resumed bool
}

// startHeld starts cmd with a heldReader as its stdout.
func startHeld(t *testing.T, cmd *exec.Cmd, hold int) *heldReader {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close() // the process has its own copy: EOF comes when it is gone
	if err != nil {
		pr.Close()
		t.Fatal(err)
	}
	h := &heldReader{pr: pr, held: make(chan struct{}), resume: make(chan struct{}), done: make(chan []byte, 1)}
	go func() {
		var b bytes.Buffer
		io.CopyN(&b, pr, int64(hold))
		close(h.held)
		<-h.resume
		io.Copy(&b, pr)
		h.done <- b.Bytes()
	}()
	t.Cleanup(func() {
		pr.Close()
		if !h.resumed {
			close(h.resume)
		}
	})
	return h
}

func (h *heldReader) waitHeld(d time.Duration) bool {
	select {
	case <-h.held:
		return true
	case <-time.After(d):
		return false
	}
}

// rest reads on to EOF (every writer gone) and returns all that was read.
func (h *heldReader) rest() []byte {
	if h.resumed {
		return nil
	}
	h.resumed = true
	close(h.resume)
	return <-h.done
}

// TestAMQPSendGivesUp: the broker goes away for good in the middle of the
// stream. hms-send must exit 2 after --retry-for, and every line must be
// either in the queue (confirmed) or in the --failed file: none is lost
// without a trace.
func TestAMQPSendGivesUp(t *testing.T) {
	q := testenv.Queue(t)
	ch := testenv.Channel(t)
	lines := mqLines(20000, 200)
	p, sendURL := testenv.AMQPProxy(t)
	p.CutAfter(600<<10, 1)
	p.RefuseAfter(1)
	failed := filepath.Join(t.TempDir(), "failed")
	send := exec.Command("hms-send", "-q", q, "--url", sendURL, "--retry-for", "500ms", "--failed", failed)
	send.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := send.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("hms-send: %v, want exit status 2\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("gave up reconnecting after 500ms")) {
		t.Fatalf("no give-up message:\n%s", out)
	}
	data, err := os.ReadFile(failed)
	if err != nil {
		t.Fatal(err)
	}
	got := mqCounts(data)
	inFailed := len(got)
	// Add what the broker has. Publishes that reached it before the cut
	// reach the queue asynchronously: take what is there until every line
	// is accounted for (or the deadline passes, and the check below fails).
	testenv.WaitFor(patience, func() bool {
		mqAddBodies(got, testenv.Drain(t, ch, q))
		for _, l := range lines {
			if got[l] == 0 {
				return false
			}
		}
		return true
	})
	mqRequireAll(t, lines, got)
	if inFailed == 0 || inFailed == len(lines) {
		t.Fatalf("%d lines in --failed: the broker did not go away mid-stream", inFailed)
	}
	t.Logf("%d lines confirmed or in flight, %d in --failed", len(lines)-inFailed, inFailed)
}

// TestAMQPExecBrokenPipe: when the reader of hms-recv's stdout goes away,
// the command dies of SIGPIPE; hms-recv hands the batch back and exits
// quietly with 141 instead of retrying forever.
func TestAMQPExecBrokenPipe(t *testing.T) {
	q := testenv.Queue(t)
	ch := testenv.Channel(t)
	lines := mqLines(100, 50)
	mqFill(t, q, lines)
	sh := exec.Command("bash", "-c", `hms-recv -q "$1" --exec 'cat; exec cat /dev/zero' --batch 10 --drain | head -c 1 >/dev/null; echo "status ${PIPESTATUS[0]}"`, "bash", q)
	out, err := sh.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "status 141\n" {
		t.Fatalf("got %q, want status 141", out)
	}
	testenv.WaitUnconsumed(t, ch, q)
	testenv.WaitReady(t, ch, q, len(lines))
}

// TestAMQPKilledStdout kills hms-recv (stdout mode) with SIGKILL
// mid-stream: every message must be either in its output or back in the
// queue, since it acks only what it wrote and flushed.
func TestAMQPKilledStdout(t *testing.T) {
	q := testenv.Queue(t)
	ch := testenv.Channel(t)
	lines := mqLines(20000, 100)
	mqFill(t, q, lines)

	// The reader stops after 100 KiB: hms-recv blocks mid-stream on the
	// full pipe, and is killed there.
	recv := exec.Command("hms-recv", "-q", q, "--prefetch", "100")
	out := startHeld(t, recv, 100<<10)
	if !out.waitHeld(patience) {
		recv.Process.Kill()
		t.Fatal("nothing consumed")
	}
	recv.Process.Kill() // SIGKILL
	recv.Wait()
	got := mqCounts(out.rest())
	written := len(got)
	// Once the broker has seen the consumer go, what it did not ack is ready.
	testenv.WaitUnconsumed(t, ch, q)
	mqAddBodies(got, testenv.Drain(t, ch, q))
	mqRequireAll(t, lines, got)
	t.Logf("%d written before the kill, the rest was still in the queue", written)
	if written == len(lines) {
		t.Fatal("hms-recv finished before the kill: nothing was tested")
	}
}
