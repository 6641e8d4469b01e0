package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/amqprecv"
	"github.com/hms-toolkit/hms/pkg/amqpsend"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

func requireLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		have[l] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("no line %q in\n%s", l, body)
		}
	}
}

func TestRecv(t *testing.T) {
	reg := NewRegistry("hms-recv")
	var st amqprecv.Stats
	m := reg.Recv(&st)
	h := reg.Handler()
	if code, body := get(t, h, "/healthz"); code != 503 || body != "not connected to the broker\n" {
		t.Fatalf("%d %q", code, body)
	}
	st.Connected.Store(true)
	st.Delivered.Add(7)
	st.Acked.Add(5)
	st.Requeued.Add(2)
	st.DeadLettered.Add(1)
	st.Reconnects.Add(1)
	m.Batch(3)
	m.Batch(2)
	m.Run(1500*time.Millisecond, amqprecv.RunSucceeded)
	m.Run(20*time.Millisecond, amqprecv.RunFailed)
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok: connected to the broker\n" {
		t.Fatalf("%d %q", code, body)
	}
	code, body := get(t, h, "/metrics")
	if code != 200 {
		t.Fatal(code)
	}
	requireLines(t, body,
		"# TYPE hms_recv_messages_total counter",
		`hms_recv_messages_total{outcome="acked"} 5`,
		`hms_recv_messages_total{outcome="requeued"} 2`,
		`hms_recv_messages_total{outcome="dead_lettered"} 1`,
		`hms_recv_messages_total{outcome="ack_lost"} 0`,
		"hms_recv_messages_received_total 7",
		"hms_recv_reconnects_total 1",
		"hms_recv_connected 1",
		"# TYPE hms_recv_batch_messages histogram",
		`hms_recv_batch_messages_bucket{le="2"} 1`,
		`hms_recv_batch_messages_bucket{le="5"} 2`,
		"hms_recv_batch_messages_sum 5",
		"# TYPE hms_recv_exec_duration_seconds histogram",
		`hms_recv_exec_duration_seconds_bucket{outcome="success",le="1"} 0`,
		`hms_recv_exec_duration_seconds_bucket{outcome="success",le="2.5"} 1`,
		`hms_recv_exec_duration_seconds_sum{outcome="success"} 1.5`,
		`hms_recv_exec_duration_seconds_count{outcome="failure"} 1`,
	)
	for _, prefix := range []string{"process_cpu_seconds_total ", "go_goroutines ", `hms_build_info{commit=`} {
		if !strings.Contains(body, "\n"+prefix) {
			t.Errorf("no %q", prefix)
		}
	}
	if !strings.Contains(body, `program="hms-recv"`) {
		t.Error("hms_build_info names no program")
	}
	if code, body := get(t, h, "/"); code != 200 || !strings.Contains(body, "/metrics") {
		t.Fatalf("%d %q", code, body)
	}
	if code, _ := get(t, h, "/nothing"); code != 404 {
		t.Fatal(code)
	}
}

func TestSend(t *testing.T) {
	reg := NewRegistry("hms-send")
	var st amqpsend.Stats
	var fs amqpsend.FeedStats
	reg.Send(&st, &fs)
	st.Connected.Store(true)
	st.Published.Add(12)
	st.Republished.Add(2)
	st.Confirmed.Add(8)
	st.Nacked.Add(1)
	st.Returned.Add(1)
	fs.NotSent.Add(2)
	fs.Rejected.Add(3)
	fs.Skipped.Add(4)
	_, body := get(t, reg.Handler(), "/metrics")
	requireLines(t, body,
		"hms_send_messages_published_total 12",
		"hms_send_messages_republished_total 2",
		`hms_send_messages_total{outcome="confirmed"} 8`,
		`hms_send_messages_total{outcome="nacked"} 1`,
		`hms_send_messages_total{outcome="returned"} 1`,
		`hms_send_messages_total{outcome="not_sent"} 2`,
		"hms_send_lines_rejected_total 3",
		"hms_send_lines_skipped_total 4",
		"hms_send_reconnects_total 0",
		"hms_send_connected 1",
	)
}

func TestServe(t *testing.T) {
	reg := NewRegistry("hms-recv")
	var st amqprecv.Stats
	reg.Recv(&st)
	srv, err := reg.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if strings.HasSuffix(srv.Addr(), ":0") {
		t.Fatalf("addr %s: the port was not picked", srv.Addr())
	}
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "hms_recv_connected 0") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	srv.Close()
	if _, err := http.Get("http://" + srv.Addr() + "/metrics"); err == nil {
		t.Fatal("still serving after Close")
	}
	for _, bad := range []string{"nowhere", "127.0.0.1", "256.0.0.1:1"} {
		if s, err := reg.Serve(bad); err == nil {
			s.Close()
			t.Errorf("Serve(%q) worked", bad)
		}
	}
}

// The nodes of a cluster, each with a gauge (1 for the one connected to),
// passwords hidden; and the time the broker blocked publishing.
func TestClusterNodes(t *testing.T) {
	reg := NewRegistry("hms-recv")
	c := amqprecv.NewConsumer(amqprecv.Config{Conn: amqpconn.Config{URLs: []string{"amqp://u:secret@mq1/", "amqp://u:secret@mq2/"}}})
	reg.Recv(&c.Stats)
	_, body := get(t, reg.Handler(), "/metrics")
	requireLines(t, body,
		"# TYPE hms_recv_broker_node gauge",
		`hms_recv_broker_node{node="amqp://u:xxxxx@mq1/"} 0`,
		`hms_recv_broker_node{node="amqp://u:xxxxx@mq2/"} 0`,
		"# TYPE hms_recv_blocked_seconds_total counter",
		"hms_recv_blocked_seconds_total 0",
		"hms_recv_blocked 0",
	)
	if strings.Contains(body, "secret") {
		t.Fatal("a password in the metrics")
	}
}
