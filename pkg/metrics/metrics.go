// Package metrics exports what hms-send and hms-recv do as Prometheus
// metrics, served over HTTP at /metrics, with /healthz saying whether the
// connection to the broker is up. It reads the Stats that amqprecv and
// amqpsend keep, at each scrape, and is told of each run of a command and
// each batch (for the histograms): the transport itself knows nothing of
// Prometheus.
//
// Names follow the Prometheus conventions: the program as prefix
// (hms_recv_, hms_send_), _total for counters, base units (seconds,
// messages), one metric with an outcome label where the outcomes add up
// to a whole.
package metrics

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hms-toolkit/hms/pkg/version"
)

// Registry holds the metrics of one program and serves them.
type Registry struct {
	program string
	prefix  string // "hms_recv_"
	reg     *prometheus.Registry
	// connected tells /healthz whether the connection to the broker is up.
	connected func() bool
}

// NewRegistry returns the registry of program ("hms-recv"), with the
// process and Go runtime collectors and hms_build_info.
func NewRegistry(program string) *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	v := version.Get()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hms_build_info",
		Help: "Always 1: the build of hms that runs, in its labels.",
		ConstLabels: prometheus.Labels{
			"program": program, "version": v.Version, "commit": v.Commit, "goversion": v.GoVersion,
		},
	}, func() float64 { return 1 }))
	return &Registry{
		program:   program,
		prefix:    strings.ReplaceAll(program, "-", "_") + "_",
		reg:       reg,
		connected: func() bool { return false },
	}
}

// Handler serves /metrics (the Prometheus text format), /healthz (200 when
// the connection to the broker is up, 503 otherwise) and, at /, a line
// saying what is where.
func (r *Registry) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !r.connected() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not connected to the broker")
			return
		}
		fmt.Fprintln(w, "ok: connected to the broker")
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s: metrics at /metrics, health at /healthz\n", r.program)
	})
	return mux
}

// Server is a running metrics endpoint.
type Server struct {
	srv  *http.Server
	addr string
}

// Serve listens on addr (HOST:PORT; port 0 picks a free one, see Addr) and
// serves Handler until Close.
func (r *Registry) Serve(addr string) (*Server, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("want HOST:PORT (e.g. 127.0.0.1:9090): %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		srv:  &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr().String(),
	}
	// Serve ends with ErrServerClosed at Close; an error of the listener
	// itself ends the metrics only, not the program.
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the address the server listens on, with the port it was given.
func (s *Server) Addr() string { return s.addr }

// Close stops serving.
func (s *Server) Close() error { return s.srv.Close() }

// statCollector turns values read at each scrape (the atomic counters of
// a Stats) into metrics.
type statCollector []stat

type stat struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func() float64
	label string // the value of the desc's one variable label, if it has one
}

func (c statCollector) Describe(ch chan<- *prometheus.Desc) {
	seen := map[*prometheus.Desc]bool{}
	for _, s := range c {
		if !seen[s.desc] {
			seen[s.desc] = true
			ch <- s.desc
		}
	}
}

func (c statCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c {
		var labels []string
		if s.label != "" {
			labels = []string{s.label}
		}
		ch <- prometheus.MustNewConstMetric(s.desc, s.typ, s.value(), labels...)
	}
}

// counter, gauge and outcomes build the stats of a statCollector.
func (r *Registry) counter(name, help string, value func() int64) stat {
	return stat{prometheus.NewDesc(r.prefix+name, help, nil, nil), prometheus.CounterValue, func() float64 { return float64(value()) }, ""}
}

func (r *Registry) gauge(name, help string, value func() float64) stat {
	return stat{prometheus.NewDesc(r.prefix+name, help, nil, nil), prometheus.GaugeValue, value, ""}
}

// outcome is one value of a counter with an outcome label.
type outcome struct {
	name  string
	value func() int64
}

// outcomes is one counter with an outcome label: a value per outcome.
func (r *Registry) outcomes(name, help string, outs ...outcome) []stat {
	desc := prometheus.NewDesc(r.prefix+name, help, []string{"outcome"}, nil)
	stats := make([]stat, len(outs))
	for i, o := range outs {
		stats[i] = stat{desc, prometheus.CounterValue, func() float64 { return float64(o.value()) }, o.name}
	}
	return stats
}

func boolGauge(b func() bool) func() float64 {
	return func() float64 {
		if b() {
			return 1
		}
		return 0
	}
}
