package hms_test

// Fault-injection tests for hms-send and hms-recv against the real broker:
// connections cut mid-stream by a proxy, a consumer killed with SIGKILL in
// the middle of a batch, a downstream command that fails, a SIGTERM. They
// check by message body that every line hms-send exited 0 for is consumed
// at least once and that nothing is acked before it was handled. The
// binaries are the test binary itself, on $PATH thanks to testscript.Main.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/pkg/faultproxy"
)

func mqTestQueue(t *testing.T) string {
	q := mqUnique("hmstest.go." + t.Name())
	t.Cleanup(func() { mqDeleteQueues(q) })
	return q
}

func mqChannel(t *testing.T) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(mqURL())
	if err != nil {
		t.Fatalf("RabbitMQ is needed at %s: %v", mqURL(), err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// mqProxied returns the test broker URL with its host replaced by addr.
func mqProxied(t *testing.T, p *faultproxy.Proxy) string {
	u, err := url.Parse(mqURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.Addr()
	return u.String()
}

func mqProxy(t *testing.T) *faultproxy.Proxy {
	u, _ := url.Parse(mqURL())
	host := u.Host
	if u.Port() == "" {
		host += ":5672"
	}
	p, err := faultproxy.Start(host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// mqLines returns n distinct lines of about size bytes.
func mqLines(n, size int) []string {
	ls := make([]string, n)
	for i := range ls {
		id := fmt.Sprintf("msg-%06d-", i+1)
		ls[i] = id + strings.Repeat("p", max(0, size-len(id)))
	}
	return ls
}

// fill publishes lines to q directly (declared the way hms declares it).
func mqFill(t *testing.T, q string, lines []string) {
	t.Helper()
	cmd := exec.Command("hms-send", "-q", q)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hms-send: %v\n%s", err, out)
	}
}

func mqReady(t *testing.T, ch *amqp.Channel, q string) int {
	t.Helper()
	st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st.Messages
}

// counts returns how many times each line occurs in data.
func mqCounts(data []byte) map[string]int {
	m := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m[sc.Text()]++
	}
	return m
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

// TestAMQPCuttingProxy sends through a proxy that cuts each of the first
// connections mid-stream, then receives through another one that does the
// same: hms-send must exit 0 and every line must come out.
func TestAMQPCuttingProxy(t *testing.T) {
	q := mqTestQueue(t)
	ch := mqChannel(t)
	// Envelope-shaped lines: their "id" becomes the AMQP message-id, which
	// must survive re-publishing unchanged.
	lines := mqLines(20000, 200)
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l[:10]
		lines[i] = fmt.Sprintf(`{"id":%q,"operation":"test","data":%q}`, ids[i], l)
	}

	ps := mqProxy(t)
	ps.CutAfter(400<<10, 5)
	send := exec.Command("hms-send", "-q", q, "--url", mqProxied(t, ps), "-v", "--retry-for", "1m", "--window", "256")
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
	if n := mqReady(t, ch, q); n < len(lines) {
		t.Fatalf("%d messages in the queue after hms-send exited 0, want at least %d", n, len(lines))
	}

	pr := mqProxy(t)
	pr.CutAfter(400<<10, 5)
	recv := exec.Command("hms-recv", "-q", q, "--url", mqProxied(t, pr), "--drain", "-v", "--retry-for", "1m", "--format", "json")
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
	dec := json.NewDecoder(&out)
	for dec.More() {
		var m struct {
			Body      string `json:"body"`
			MessageID string `json:"message_id"`
		}
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Body, `"id":"`+m.MessageID+`"`) {
			t.Fatalf("message-id %q on body %.40s...", m.MessageID, m.Body)
		}
		got[m.MessageID]++
	}
	for _, id := range ids {
		if got[id] == 0 {
			t.Fatalf("message-id %s was confirmed to hms-send but never consumed (%d of %d ids seen)", id, len(got), len(ids))
		}
	}
	if n := mqReady(t, ch, q); n != 0 {
		t.Fatalf("%d messages left after --drain", n)
	}
}

func mqLastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// TestAMQPKilledMidBatch kills hms-recv with SIGKILL while its command
// handles a batch: the batch must come again (it was not acked) and, after
// a second run, every message must have been handled.
func TestAMQPKilledMidBatch(t *testing.T) {
	q := mqTestQueue(t)
	ch := mqChannel(t)
	lines := mqLines(500, 100)
	mqFill(t, q, lines)

	dir := t.TempDir()
	handled := filepath.Join(dir, "handled")
	started := filepath.Join(dir, "started")
	// The first batch blocks in the command until the test kills everything.
	script := fmt.Sprintf(`cat >> %s; if [ ! -e %s ]; then touch %s; exec sleep 600; fi`, handled, started, started)
	recv := exec.Command("hms-recv", "-q", q, "--exec", script, "--batch", "50", "--batch-wait", "1m")
	recv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var recvErr bytes.Buffer
	recv.Stderr = &recvErr
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	if !mqWaitFor(30*time.Second, func() bool { _, err := os.Stat(started); return err == nil }) {
		syscall.Kill(-recv.Process.Pid, syscall.SIGKILL)
		recv.Wait()
		t.Fatalf("the first batch never started\n%s", recvErr.String())
	}
	syscall.Kill(-recv.Process.Pid, syscall.SIGKILL)
	recv.Wait()
	// The broker requeues the unacked messages once it sees the connection
	// closed: wait for all of them to be ready again.
	if !mqWaitFor(30*time.Second, func() bool { return mqReady(t, ch, q) == len(lines) }) {
		t.Fatalf("%d messages ready after the kill, want %d (an ack went out before the batch was handled?)", mqReady(t, ch, q), len(lines))
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
		if got[l] != 2 {
			t.Fatalf("%.10s... handled %d times, want 2 (once by the killed run, once again)", l, got[l])
		}
	}
	if n := mqReady(t, ch, q); n != 0 {
		t.Fatalf("%d messages left", n)
	}
}

// TestAMQPFailingCommand: a command that fails every other run, with the
// consumer's connection cut now and then: every message is handled by a
// successful run, and the queue ends empty.
func TestAMQPFailingCommand(t *testing.T) {
	q := mqTestQueue(t)
	ch := mqChannel(t)
	lines := mqLines(1000, 100)
	mqFill(t, q, lines)

	dir := t.TempDir()
	handled := filepath.Join(dir, "handled")
	counter := filepath.Join(dir, "runs")
	script := fmt.Sprintf(`n=$(cat %[1]s 2>/dev/null || echo 0); echo $((n+1)) > %[1]s
if [ $((n %% 2)) -eq 0 ]; then cat > /dev/null; echo "failing run $n" >&2; exit 1; fi
cat >> %[2]s`, counter, handled)
	p := mqProxy(t)
	p.CutAfter(30<<10, 3)
	recv := exec.Command("hms-recv", "-q", q, "--url", mqProxied(t, p), "--exec", script,
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
	mqRequireAll(t, lines, mqCounts(data))
	if n := mqReady(t, ch, q); n != 0 {
		t.Fatalf("%d messages left", n)
	}
}

// TestAMQPSigterm: SIGTERM stops hms-recv cleanly (exit 143, 128+SIGTERM,
// the one rule for signals): what it wrote is acked, the rest is back in
// the queue, so written + left == sent.
func TestAMQPSigterm(t *testing.T) {
	t.Run("exec", func(t *testing.T) {
		testSigterm(t, "--prefetch", "10", "--exec", "cat; exec sleep 0.05", "--batch", "10")
	})
	t.Run("stdout", func(t *testing.T) { testSigterm(t, "--prefetch", "1") })
}

func testSigterm(t *testing.T, args ...string) {
	q := mqTestQueue(t)
	ch := mqChannel(t)
	lines := mqLines(5000, 100)
	mqFill(t, q, lines)

	dir := t.TempDir()
	outPath := filepath.Join(dir, "out")
	f, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A slow reader: hms-recv is stopped with most messages still queued.
	recv := exec.Command("hms-recv", append([]string{"-q", q}, args...)...)
	recv.Stdout = f
	var recvErr bytes.Buffer
	recv.Stderr = &recvErr
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	if !mqWaitFor(30*time.Second, func() bool { fi, err := os.Stat(outPath); return err == nil && fi.Size() > 0 }) {
		recv.Process.Kill()
		t.Fatalf("nothing consumed\n%s", recvErr.String())
	}
	recv.Process.Signal(syscall.SIGTERM)
	if err := recv.Wait(); recv.ProcessState.ExitCode() != 143 {
		t.Fatalf("hms-recv after SIGTERM: %v, want exit status 143\n%s", err, recvErr.String())
	}
	data, _ := os.ReadFile(outPath)
	written := len(mqCounts(data))
	if !mqWaitFor(30*time.Second, func() bool { return mqReady(t, ch, q) == len(lines)-written }) {
		t.Fatalf("written %d + left %d != sent %d", written, mqReady(t, ch, q), len(lines))
	}
	if written == 0 || written == len(lines) {
		t.Fatalf("written %d of %d: the test did not stop hms-recv mid-stream", written, len(lines))
	}
}

// TestAMQPSendGivesUp: the broker goes away for good in the middle of the
// stream. hms-send must exit 2 after --retry-for, and every line must be
// either in the queue (confirmed) or in the --failed file: none is lost
// without a trace.
func TestAMQPSendGivesUp(t *testing.T) {
	q := mqTestQueue(t)
	ch := mqChannel(t)
	lines := mqLines(20000, 200)
	p := mqProxy(t)
	p.CutAfter(600<<10, 1)
	p.RefuseAfter(1)
	failed := filepath.Join(t.TempDir(), "failed")
	send := exec.Command("hms-send", "-q", q, "--url", mqProxied(t, p), "--retry-for", "500ms", "--failed", failed)
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
	// Add what the broker has.
	for {
		d, ok, err := ch.Get(q, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got[string(d.Body)]++
	}
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
	q := mqTestQueue(t)
	ch := mqChannel(t)
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
	if !mqWaitFor(30*time.Second, func() bool { return mqReady(t, ch, q) == len(lines) }) {
		t.Fatalf("%d messages ready, want all %d back", mqReady(t, ch, q), len(lines))
	}
}

// TestAMQPKilledStdout kills hms-recv (stdout mode) with SIGKILL
// mid-stream: every message must be either in its output or back in the
// queue, since it acks only what it wrote and flushed.
func TestAMQPKilledStdout(t *testing.T) {
	q := mqTestQueue(t)
	ch := mqChannel(t)
	lines := mqLines(20000, 100)
	mqFill(t, q, lines)

	outPath := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recv := exec.Command("hms-recv", "-q", q, "--prefetch", "100")
	recv.Stdout = f
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	if !mqWaitFor(30*time.Second, func() bool { fi, err := os.Stat(outPath); return err == nil && fi.Size() > 100<<10 }) {
		recv.Process.Kill()
		t.Fatal("nothing consumed")
	}
	recv.Process.Kill() // SIGKILL
	recv.Wait()
	// Once the broker has seen the consumer go, what it did not ack is ready.
	if !mqWaitFor(30*time.Second, func() bool {
		st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		return err == nil && st.Consumers == 0
	}) {
		t.Fatal("the broker still sees the killed consumer")
	}
	data, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	got := mqCounts(data)
	written := len(got)
	for {
		d, ok, err := ch.Get(q, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got[string(d.Body)]++
	}
	mqRequireAll(t, lines, got)
	t.Logf("%d written before the kill, the rest was still in the queue", written)
	if written == len(lines) {
		t.Fatal("hms-recv finished before the kill: nothing was tested")
	}
}
