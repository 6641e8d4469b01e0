package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/internal/testenv"
	"github.com/hms-toolkit/hms/pkg/devdb"
)

// TestChaosFactorCluster runs the book's distributed factoring (chapter 19)
// as hms composes it — orchestrator, two workers, dispatcher, all through
// scripts/cluster/ — and breaks it while it runs: a worker is SIGKILLed
// twice (and replaced), every broker connection is cut once, and the
// database is stopped for a few seconds. At the end the factors collection
// must hold exactly one document per number, and a sample must match
// hms-factors run locally.
//
// The number count is HMS_CHAOS_N (default 200,000, as the issue asks).
// The database is always an embedded dev server of the test's own, since
// the test stops and restarts it.
func TestChaosFactorCluster(t *testing.T) {
	n := chaosN(t)
	const first = uint64(1) << 62 // numbers with varied, non-trivial factorizations
	root := testenv.Root(t)
	dir := t.TempDir()

	// The broker, behind a proxy that can cut every connection.
	proxy, proxyURL := testenv.AMQPProxy(t)
	admin := testenv.Channel(t)
	work, results := testenv.UniqueName("hms.chaos.work"), testenv.UniqueName("hms.chaos.results")
	defer testenv.DeleteQueues(work, results)

	// The database, which the test stops and restarts on the same address.
	dbDir := filepath.Join(dir, "db")
	db, err := devdb.Start(devdb.Options{Addr: "127.0.0.1:0", Dir: dbDir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Stop() }()
	dbAddr := db.Addr()
	env, ring := factoringEnv(t, dir, proxyURL, db.URI(), work, results)
	cluster := filepath.Join(root, "scripts", "cluster")
	procs := newProcSet(t, dir, env)
	defer procs.stopAll()
	procs.start("dispatcher", filepath.Join(cluster, "dispatcher.sh"))
	workers := []*exec.Cmd{
		procs.start("worker-a", filepath.Join(cluster, "worker.sh")),
		procs.start("worker-b", filepath.Join(cluster, "worker.sh")),
	}

	// The orchestrator publishes all the work; its exit 0 means every chunk
	// is in the broker.
	var nums bytes.Buffer
	for i := 0; i < n; i++ {
		nums.WriteString(strconv.FormatUint(first+uint64(i), 10))
		nums.WriteByte('\n')
	}
	started := time.Now()
	orch := exec.Command(filepath.Join(cluster, "orchestrate.sh"))
	orch.Dir, orch.Env, orch.Stdin = dir, env, &nums
	if out, err := orch.CombinedOutput(); err != nil {
		t.Fatalf("orchestrator: %v\n%s", err, out)
	}
	t.Logf("orchestrator: %d numbers in %d work messages published in %v", n, (n+999)/1000, time.Since(started).Round(time.Millisecond))

	// Faults, each fired once the store has passed a share of the work;
	// recovery is the time from the fault until the stored count grows again.
	// Progress is what the dispatcher's hms-store runs report as newly
	// inserted: exact, since inserts are idempotent (a redelivered number
	// counts as "already present"), and cheap, where counting documents on
	// the dev server decodes every one of them.
	count := func() int64 { return procs.inserted("dispatcher") }
	faults := []struct {
		at   float64
		name string
		do   func()
	}{
		{0.10, "SIGKILL worker-a", func() {
			procs.kill(workers[0])
			workers[0] = procs.start("worker-a2", filepath.Join(cluster, "worker.sh"))
		}},
		{0.30, "cut every broker connection", func() {
			t.Logf("cut %d connections", proxy.CutAll())
		}},
		{0.50, "stop the database for 3s", func() {
			if err := db.Stop(); err != nil {
				t.Errorf("stopping the database: %v", err)
			}
			// The outage itself lasts a fixed time; nothing waits on it.
			time.Sleep(3 * time.Second)
			db, err = devdb.Start(devdb.Options{Addr: dbAddr, Dir: dbDir})
			if err != nil {
				t.Fatalf("restarting the database: %v", err)
			}
		}},
		{0.70, "SIGKILL worker-b", func() {
			procs.kill(workers[1])
			workers[1] = procs.start("worker-b2", filepath.Join(cluster, "worker.sh"))
		}},
	}
	deadline := time.Now().Add(15 * time.Minute)
	if d, ok := t.Deadline(); ok && d.Add(-30*time.Second).Before(deadline) {
		deadline = d.Add(-30 * time.Second) // fail with the logs, not a timeout panic
	}
	var last int64
	for _, f := range faults {
		for last = count(); last < int64(f.at*float64(n)); last = count() {
			if time.Now().After(deadline) {
				t.Fatalf("stuck at %d of %d documents before %q\n%s", last, n, f.name, procs.logs())
			}
			procs.checkAlive()
			time.Sleep(100 * time.Millisecond) // polling interval
		}
		at := time.Now()
		f.do()
		before := count()
		if before == int64(n) {
			t.Logf("fault %q came after the last number was stored (a larger HMS_CHAOS_N spreads the faults)", f.name)
			continue
		}
		for c := before; c <= before; c = count() {
			if c == int64(n) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no progress after %q\n%s", f.name, procs.logs())
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("fault at %d/%d docs: %s; progress again after %v", last, n, f.name, time.Since(at).Round(time.Millisecond))
	}
	for last = count(); last != int64(n); last = count() {
		if last > int64(n) {
			t.Fatalf("%d documents for %d numbers", last, n)
		}
		if time.Now().After(deadline) {
			t.Fatalf("stuck at %d of %d documents\n%s", last, n, procs.logs())
		}
		procs.checkAlive()
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(started)
	t.Logf("all %d numbers stored after %v (%.0f numbers/s with the faults)", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())

	// Stop everything cleanly, and wait until no process of the cluster is
	// left: the batches of the SIGKILLed workers were left running, as on
	// a machine whose consumer crashed, and may still publish results.
	stopping := time.Now()
	procs.stopAll()
	procs.waitGone(2 * time.Minute)
	t.Logf("cluster stopped by SIGTERM in %v", time.Since(stopping).Round(time.Millisecond))

	verifying := time.Now()
	defer func() { t.Logf("verification took %v", time.Since(verifying).Round(time.Millisecond)) }()
	left := drainLeftovers(t, admin, dir, ring, work, results)
	stored := verifyStore(t, db.URI(), first, n, left)
	verifySample(t, n, stored)
}

// chaosN is the number count: HMS_CHAOS_N, or 200,000.
func chaosN(t *testing.T) int {
	s := os.Getenv("HMS_CHAOS_N")
	if s == "" {
		return 200_000
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1000 {
		t.Fatalf("HMS_CHAOS_N=%q: want a number >= 1000", s)
	}
	return v
}

// leftovers are the messages still queued once the cluster has stopped.
type leftovers struct {
	work    []uint64          // numbers of work messages
	results map[uint64]string // n -> factors (JSON) of result messages
	counts  [2]int            // work, result messages
}

// drainLeftovers checks the queues once every consumer is gone: nothing was
// dead-lettered, and whatever the work and results queues still hold is
// taken. Delivery is at-least-once: a work batch or a result redelivered
// after a fault can be queued again after its numbers were stored (the
// dispatcher may have stored the first copy), so leftovers are allowed, but
// each must be a valid envelope whose content verifyStore then finds
// stored — a redelivered duplicate, never a lost result.
func drainLeftovers(t *testing.T, ch *amqp.Channel, dir, ring, work, results string) leftovers {
	t.Helper()
	for _, q := range []string{work, results} {
		testenv.WaitUnconsumed(t, ch, q)
	}
	for _, q := range []string{work + ".dead", results + ".dead"} {
		if ds := testenv.Drain(t, ch, q); len(ds) > 0 {
			t.Errorf("%d messages were dead-lettered to %s; the first: %s (reason %v)", len(ds), q, ds[0].Body, ds[0].Headers["x-hms-reason"])
		}
	}
	var left leftovers
	left.results = map[uint64]string{}
	for i, q := range []string{work, results} {
		ds := testenv.Drain(t, ch, q)
		left.counts[i] = len(ds)
		if len(ds) == 0 {
			continue
		}
		var bodies bytes.Buffer
		for _, d := range ds {
			bodies.Write(d.Body)
			bodies.WriteByte('\n')
		}
		// Only envelopes signed with the cluster's keys count.
		data := run(t, dir, &bodies, "hms-sign", "verify", "--keyring", ring, "--emit", "data")
		for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
			if q == work {
				v, err := strconv.ParseUint(line, 10, 64)
				if err != nil {
					t.Fatalf("left in %s: %q is not a number", q, line)
				}
				left.work = append(left.work, v)
				continue
			}
			var r struct {
				N       uint64
				Factors json.RawMessage
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("left in %s: %q: %v", q, line, err)
			}
			left.results[r.N] = string(r.Factors)
		}
	}
	t.Logf("left in the queues after the stop: %d work and %d result messages (redelivered duplicates: each is checked against the store)", left.counts[0], left.counts[1])
	return left
}

// verifyStore checks that the factors collection holds exactly one
// document per number, in one pass, and that each leftover names a number
// stored, with the same factors. It returns the factors of a sample of
// 1,000 numbers.
func verifyStore(t *testing.T, uri string, first uint64, n int, left leftovers) map[uint64][]int64 {
	t.Helper()
	// One connection: FerretDB's cursors belong to the connection that
	// opened them.
	vc, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Disconnect(context.Background())
	cur, err := vc.Database(factoringDB).Collection("factors").Find(context.Background(), bson.D{}, options.Find().SetProjection(bson.D{{Key: "factors", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range left.work {
		if v < first || v-first >= uint64(n) {
			t.Errorf("a work message left in the queue holds %d, which was never sent", v)
		}
	}
	seen := make([]bool, n)
	stored := map[uint64][]int64{}
	for len(stored) < 1000 {
		stored[first+rand.Uint64N(uint64(n))] = nil
	}
	docs := 0
	for cur.Next(context.Background()) {
		var d struct {
			ID      int64   `bson:"_id"`
			Factors []int64 `bson:"factors"`
		}
		if err := cur.Decode(&d); err != nil {
			t.Fatal(err)
		}
		docs++
		i := uint64(d.ID) - first
		if d.ID < 0 || i >= uint64(n) || seen[i] {
			t.Fatalf("unexpected or repeated _id %d", d.ID)
		}
		seen[i] = true
		if _, ok := stored[uint64(d.ID)]; ok {
			stored[uint64(d.ID)] = d.Factors
		}
		if f, ok := left.results[uint64(d.ID)]; ok {
			if want, _ := json.Marshal(d.Factors); string(want) != f {
				t.Errorf("a result left in the queue says the factors of %d are %s; stored: %s", d.ID, f, want)
			}
			delete(left.results, uint64(d.ID))
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if docs != n {
		t.Fatalf("%d documents, want %d", docs, n)
	}
	for v := range left.results {
		t.Errorf("a result left in the queue is for %d, which is not stored", v)
	}
	return stored
}

// verifySample checks the stored factors of the sample against hms-factors
// run locally.
func verifySample(t *testing.T, n int, stored map[uint64][]int64) {
	t.Helper()
	var in strings.Builder
	for v := range stored {
		fmt.Fprintln(&in, v)
	}
	out := run(t, t.TempDir(), strings.NewReader(in.String()), "hms-factors", "--format", "json")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			N       uint64
			Factors []int64
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(stored[r.N]); got != fmt.Sprint(r.Factors) {
			t.Errorf("stored factors of %d = %s, hms-factors says %v", r.N, got, r.Factors)
		}
	}
	t.Logf("verified: %d documents, one per number; a sample of %d matches hms-factors", n, len(stored))
}

// factoringDB is the database the factoring cluster stores into.
const factoringDB = "factoring"

// factoringEnv makes the keys of a factoring cluster (scripts/cluster/) in
// dir, the orchestrator's and a worker's, and returns the environment of its
// parts (the broker, the database factoringDB of mongoURI, the queues) and
// the keyring of both keys.
func factoringEnv(t *testing.T, dir, amqpURL, mongoURI, work, results string) (env []string, ring string) {
	t.Helper()
	run(t, dir, nil, "hms-sign", "keygen", "--kid", "orch-1", "--origin", "orchestrator", "--out", "orch.key")
	run(t, dir, nil, "hms-sign", "keygen", "--kid", "worker-1", "--origin", "worker", "--out", "worker.key")
	ring = filepath.Join(dir, "ring")
	concat(t, ring, filepath.Join(dir, "orch.key"), filepath.Join(dir, "worker.key"))
	return append(os.Environ(),
		"AMQP_URL="+amqpURL,
		"MONGODB_URI="+mongoURI,
		"HMS_DB="+factoringDB,
		"HMS_KEYRING="+ring,
		"HMS_ORCH_KEY="+filepath.Join(dir, "orch.key"),
		"HMS_WORKER_KEY="+filepath.Join(dir, "worker.key"),
		"HMS_WORK_QUEUE="+work,
		"HMS_RESULTS_QUEUE="+results,
	), ring
}

// run runs an hms binary (from $PATH, see testenv.Main) in dir and returns
// its stdout; it fails t unless the command exits 0.
func run(t *testing.T, dir string, stdin io.Reader, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdin = dir, stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

func concat(t *testing.T, dst string, srcs ...string) {
	t.Helper()
	var b []byte
	for _, s := range srcs {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, data...)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// procSet runs the cluster's long-lived processes, each with its log in a
// file. Each holds the write end of a pipe (fd 3), and so does every
// process it starts: the read end sees EOF once all of them are gone.
type procSet struct {
	t     *testing.T
	dir   string
	env   []string
	mu    sync.Mutex
	procs []*exec.Cmd
	names map[*exec.Cmd]string
	done  map[*exec.Cmd]chan struct{}
	// killed marks the processes the test SIGKILLed on purpose.
	killed map[*exec.Cmd]bool
	// aliveR, aliveW: the pipe whose write end every process inherits.
	aliveR, aliveW *os.File
}

func newProcSet(t *testing.T, dir string, env []string) *procSet {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return &procSet{t: t, dir: dir, env: env, aliveR: r, aliveW: w,
		names: map[*exec.Cmd]string{}, done: map[*exec.Cmd]chan struct{}{}, killed: map[*exec.Cmd]bool{}}
}

// waitGone waits until every process started, and every process those
// started, has exited (call it after stopAll; no process may be started
// afterwards). It fails the test after patience.
func (p *procSet) waitGone(patience time.Duration) {
	p.t.Helper()
	p.aliveW.Close()
	p.aliveR.SetReadDeadline(time.Now().Add(patience))
	if _, err := io.Copy(io.Discard, p.aliveR); err != nil {
		p.t.Fatalf("processes of the cluster still running after %v: %v\n%s", patience, err, p.logs())
	}
}

func (p *procSet) start(name, script string) *exec.Cmd {
	p.t.Helper()
	log, err := os.Create(filepath.Join(p.dir, name+".log"))
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(script, "-v")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = p.dir, p.env, log, log
	cmd.ExtraFiles = []*os.File{p.aliveW}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); log.Close(); close(done) }()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.procs = append(p.procs, cmd)
	p.names[cmd], p.done[cmd] = name, done
	return cmd
}

// kill SIGKILLs a process (not its running batch, which finishes on its own,
// as it would on a machine whose consumer crashed) and waits for it to die.
func (p *procSet) kill(cmd *exec.Cmd) {
	p.mu.Lock()
	p.killed[cmd] = true
	p.mu.Unlock()
	cmd.Process.Signal(syscall.SIGKILL)
	<-p.done[cmd]
}

// checkAlive fails the test when a process that should be running exited.
func (p *procSet) checkAlive() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cmd := range p.procs {
		select {
		case <-p.done[cmd]:
			if !p.killed[cmd] {
				p.t.Fatalf("%s exited: %v\n%s", p.names[cmd], cmd.ProcessState, p.logsLocked())
			}
		default:
		}
	}
}

// stopAll sends SIGTERM to every running process (a clean stop) and waits.
func (p *procSet) stopAll() {
	p.mu.Lock()
	procs := append([]*exec.Cmd(nil), p.procs...)
	p.mu.Unlock()
	for _, cmd := range procs {
		select {
		case <-p.done[cmd]:
		default:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done[cmd]:
			case <-time.After(30 * time.Second):
				p.t.Errorf("%s did not stop on SIGTERM within 30s", p.names[cmd])
				cmd.Process.Kill()
				<-p.done[cmd]
			}
		}
	}
}

var insertedRE = regexp.MustCompile(`hms-store: read \d+, inserted (\d+),`)

// inserted sums what the hms-store runs in the logs of the processes whose
// name starts with prefix reported as newly inserted.
func (p *procSet) inserted(prefix string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum int64
	for _, cmd := range p.procs {
		if !strings.HasPrefix(p.names[cmd], prefix) {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(p.dir, p.names[cmd]+".log"))
		for _, m := range insertedRE.FindAllSubmatch(data, -1) {
			v, _ := strconv.ParseInt(string(m[1]), 10, 64)
			sum += v
		}
	}
	return sum
}

func (p *procSet) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logsLocked()
}

func (p *procSet) logsLocked() string {
	var b strings.Builder
	for _, cmd := range p.procs {
		f, err := os.Open(filepath.Join(p.dir, p.names[cmd]+".log"))
		if err != nil {
			continue
		}
		var lines []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		fmt.Fprintf(&b, "--- %s (last lines)\n%s\n", p.names[cmd], strings.Join(lines, "\n"))
	}
	return b.String()
}
