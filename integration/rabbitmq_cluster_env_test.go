package integration

// The test RabbitMQ cluster: three nodes of the machine's rabbitmq-server
// package started by scripts/rabbitmq-cluster.sh on ports and node names of
// the tests' own (hmstest1-3@localhost on 5791-5793, in
// $TMPDIR/hms-test-rabbitmq-cluster), never the machine's broker on 5672.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/internal/testenv"
)

const (
	testClusterNodes = 3
	testClusterPort  = 5791
	testClusterName  = "hmstest"
)

type testCluster struct {
	script   string
	env      []string
	mu       sync.Mutex
	starting map[int]chan error       // nodes being started again in the background
	admin    map[int]*amqp.Connection // for messages
}

// startTestCluster starts the test cluster, or takes over the one a crashed
// run left behind (start is idempotent; a node whose VM is gone is started
// again, a leftover memory alarm is lifted), and deletes it when t ends.
// Runs of the suite that overlap take turns: the cluster is locked.
func startTestCluster(t *testing.T) *testCluster {
	t.Helper()
	if _, err := exec.LookPath("rabbitmq-server"); err != nil {
		if _, err := os.Stat("/usr/sbin/rabbitmq-server"); err != nil {
			t.Fatal("the RabbitMQ cluster tests need Debian's rabbitmq-server package (scripts/test.sh installs it): apt-get install rabbitmq-server")
		}
	}
	root := testenv.Root(t)
	dir := filepath.Join(os.TempDir(), "hms-test-rabbitmq-cluster")
	lockTestCluster(t, dir+".lock")
	c := &testCluster{starting: map[int]chan error{}, admin: map[int]*amqp.Connection{}, script: filepath.Join(root, "scripts", "rabbitmq-cluster.sh"), env: append(os.Environ(),
		"HMS_CLUSTER_DIR="+dir,
		fmt.Sprintf("HMS_CLUSTER_PORT=%d", testClusterPort),
		"HMS_CLUSTER_NAME="+testClusterName,
		"PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin",
	)}
	start := time.Now()
	out, err := c.try("start", fmt.Sprint(testClusterNodes))
	if err != nil {
		// What a crash left may not come back: start afresh.
		t.Logf("starting the cluster over: %v", err)
		c.run(t, "clean")
		out = c.run(t, "start", fmt.Sprint(testClusterNodes))
	}
	t.Cleanup(func() {
		for _, conn := range c.admin {
			conn.Close()
		}
		c.waitStarts()
		if out, err := c.try("clean"); err != nil {
			t.Errorf("stopping the test cluster: %v\n%s", err, out)
		}
	})
	for i := 1; i <= testClusterNodes; i++ {
		if !strings.Contains(out, fmt.Sprintf("starting %s%d@", testClusterName, i)) {
			c.liftAlarm(t, i) // left running by a crashed run, maybe with its alarm
		}
	}
	t.Logf("%d-node cluster up in %v: %s", testClusterNodes, time.Since(start).Round(time.Millisecond), c.urls())
	return c
}

// lockTestCluster holds an exclusive lock on path until t ends; the kernel
// drops it if the test process dies.
func lockTestCluster(t *testing.T, path string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Logf("another test run uses the test cluster; waiting for it")
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { f.Close() })
}

func (c *testCluster) try(args ...string) (string, error) {
	cmd := exec.Command(c.script, args...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("rabbitmq-cluster.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (c *testCluster) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.try(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// url is the URL of node i (1-based).
func (c *testCluster) url(i int) string {
	return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", testClusterPort+i-1)
}

// urls is every node's URL, in the order given, for AMQP_URL.
func (c *testCluster) urls(order ...int) string {
	if len(order) == 0 {
		for i := 1; i <= testClusterNodes; i++ {
			order = append(order, i)
		}
	}
	var us []string
	for _, i := range order {
		us = append(us, c.url(i))
	}
	return strings.Join(us, " ")
}

// stopNode stops node i, once every node is up (with two of three down,
// quorum queues stop), and starts it again in the background when t ends:
// the next test goes on meanwhile, as long as it needs no third node.
func (c *testCluster) stopNode(t *testing.T, i int) {
	t.Helper()
	c.allUp(t)
	c.run(t, "stop-node", fmt.Sprint(i))
	t.Cleanup(func() {
		done := make(chan error, 1)
		c.mu.Lock()
		c.starting[i] = done
		c.mu.Unlock()
		go func() { _, err := c.try("start-node", fmt.Sprint(i)); done <- err }()
	})
}

// waitStarts waits for the nodes being started in the background and
// returns the first error.
func (c *testCluster) waitStarts() error {
	c.mu.Lock()
	pending := c.starting
	c.starting = map[int]chan error{}
	c.mu.Unlock()
	var first error
	for _, done := range pending {
		if err := <-done; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// allUp waits until every node runs again.
func (c *testCluster) allUp(t *testing.T) {
	t.Helper()
	if err := c.waitStarts(); err != nil {
		t.Fatalf("starting a node again: %v", err)
	}
}

func (c *testCluster) startNode(t *testing.T, i int) {
	t.Helper()
	c.run(t, "start-node", fmt.Sprint(i))
}

func (c *testCluster) ctl(t *testing.T, i int, args ...string) string {
	t.Helper()
	return c.run(t, append([]string{"ctl", fmt.Sprint(i)}, args...)...)
}

// liftAlarm puts node i's memory watermark back to RabbitMQ's default.
func (c *testCluster) liftAlarm(t *testing.T, i int) {
	t.Helper()
	c.ctl(t, i, "-q", "set_vm_memory_high_watermark", "0.4")
}

// queue returns a new queue name, deleted with its .dead when t ends.
func (c *testCluster) queue(t *testing.T, what string) string {
	q := testenv.UniqueName("hmstest.cluster." + what)
	t.Cleanup(func() {
		for i := 1; i <= testClusterNodes; i++ {
			conn, err := amqp.Dial(c.url(i))
			if err != nil {
				continue
			}
			ch, err := conn.Channel()
			if err == nil {
				ch.QueueDelete(q, false, false, false)
				ch.QueueDelete(q+".dead", false, false, false)
			}
			conn.Close()
			return
		}
	})
	return q
}

// messages returns the number of ready messages in q, asked of node i on
// a connection kept for the next question (a new one after an error).
func (c *testCluster) messages(i int, q string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admin[i] == nil || c.admin[i].IsClosed() {
		conn, err := amqp.Dial(c.url(i))
		if err != nil {
			return 0, err
		}
		c.admin[i] = conn
	}
	ch, err := c.admin[i].Channel()
	if err != nil {
		c.admin[i].Close()
		return 0, err
	}
	defer ch.Close()
	st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		return 0, err
	}
	return st.Messages, nil
}

// channel returns a channel to node i, closed when t ends.
func (c *testCluster) channel(t *testing.T, i int) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(c.url(i))
	if err != nil {
		t.Fatalf("node %d: %v", i, err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// stallMeter samples a progress count and measures the longest time it did
// not grow, from a given moment (a node stopped) until stopped.
type stallMeter struct {
	mu      sync.Mutex
	longest time.Duration
	quit    chan struct{}
	done    chan struct{}
}

// meterStalls starts sampling count every 50ms, from now.
func meterStalls(count func() (int64, error)) *stallMeter {
	m := &stallMeter{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		last, lastAt := int64(-1), time.Now()
		for {
			select {
			case <-m.quit:
				return
			case <-tick.C:
				n, err := count()
				if err != nil || n <= last {
					continue
				}
				now := time.Now() // when the growth was seen, however long count took
				m.mu.Lock()
				if last >= 0 {
					m.longest = max(m.longest, now.Sub(lastAt))
				} else {
					m.longest = now.Sub(lastAt) // from the start to the first growth
				}
				m.mu.Unlock()
				last, lastAt = n, now
			}
		}
	}()
	return m
}

// stop ends the sampling and returns the longest stall seen.
func (m *stallMeter) stop() time.Duration {
	close(m.quit)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.longest
}

// fileSize is a progress count: the size of a file being appended to.
func fileSize(path string) func() (int64, error) {
	return func() (int64, error) {
		st, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}
}

// waitFor polls cond until it is true, failing t after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !testenv.WaitFor(d, cond) {
		t.Fatalf("%s: not within %v", what, d)
	}
}
