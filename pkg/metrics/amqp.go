package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/amqprecv"
	"github.com/hms-toolkit/hms/pkg/amqpsend"
)

// Recv is the part of hms-recv's metrics that is observed, not read: the
// histograms. Its methods fit amqprecv.Options.OnBatch and
// amqprecv.ExecOptions.OnRun.
type Recv struct {
	runs    *prometheus.HistogramVec
	batches prometheus.Histogram
}

// Recv registers hms-recv's metrics, read from st at each scrape, and
// makes /healthz follow st.Connected.
func (r *Registry) Recv(st *amqprecv.Stats) *Recv {
	stats := r.connection(&st.Stats, st.Connected.Load)
	stats = append(stats, r.counter("messages_received_total", "Messages delivered by the broker (redeliveries included).", st.Delivered.Load))
	stats = append(stats, r.outcomes("messages_total",
		"Messages settled, by outcome: acked once handled, requeued for another try, dead-lettered, "+
			"or ack_lost (handled, but the connection went before the ack: the broker delivers them again).",
		outcome{"acked", st.Acked.Load},
		outcome{"requeued", st.Requeued.Load},
		outcome{"dead_lettered", st.DeadLettered.Load},
		outcome{"ack_lost", st.Lost.Load},
	)...)
	m := &Recv{
		runs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    r.prefix + "exec_duration_seconds",
			Help:    "How long each run of the command took, by outcome: success, failure, reject, timeout, stopped.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"outcome"}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    r.prefix + "batch_messages",
			Help:    "Messages per batch: given to one run of the command, or acked at once when writing lines.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 65535},
		}),
	}
	r.reg.MustRegister(stats, m.runs, m.batches)
	return m
}

// Run observes one run of the command.
func (m *Recv) Run(took time.Duration, outcome amqprecv.Outcome) {
	m.runs.WithLabelValues(string(outcome)).Observe(took.Seconds())
}

// Batch observes one batch of n messages.
func (m *Recv) Batch(n int) { m.batches.Observe(float64(n)) }

// Send registers hms-send's metrics, read from st (the publisher) and fs
// (the lines) at each scrape, and makes /healthz follow st.Connected.
func (r *Registry) Send(st *amqpsend.Stats, fs *amqpsend.FeedStats) {
	stats := append(r.connection(&st.Stats, st.Connected.Load),
		r.counter("messages_published_total", "Messages published, each publishing again after a reconnect included.", st.Published.Load),
		r.counter("messages_republished_total", "Messages published again because a lost connection took their confirms.", st.Republished.Load),
		r.counter("lines_rejected_total", "Lines not sent because they are longer than the size limit.", fs.Rejected.Load),
		r.counter("lines_skipped_total", "Empty lines, skipped.", fs.Skipped.Load),
	)
	stats = append(stats, r.outcomes("messages_total",
		"Messages settled, by outcome: confirmed by the broker, nacked (refused), returned (unroutable), "+
			"or not_sent (not confirmed when hms-send stopped or gave up).",
		outcome{"confirmed", st.Confirmed.Load},
		outcome{"nacked", st.Nacked.Load},
		outcome{"returned", st.Returned.Load},
		outcome{"not_sent", fs.NotSent.Load},
	)...)
	r.reg.MustRegister(stats)
}

// connection is what both programs say about their connection to the
// broker (its nodes, the time it blocked publishing), and makes /healthz
// follow connected.
func (r *Registry) connection(st *amqpconn.Stats, connected func() bool) statCollector {
	r.connected = connected
	stats := statCollector{
		r.counter("reconnects_total", "Connections to the broker established again after one was lost.", st.Reconnects.Load),
		r.gauge("connected", "1 while connected to the broker (a channel open), else 0.", boolGauge(connected)),
		{prometheus.NewDesc(r.prefix+"blocked_seconds_total",
			"Time the broker blocked publishing (flow control: a memory or disk alarm in the cluster).", nil, nil),
			prometheus.CounterValue, func() float64 { return st.Blocked().Seconds() }, ""},
		r.gauge("blocked", "1 while the broker blocks publishing, else 0.", boolGauge(func() bool {
			_, _, blocked := st.BlockedNow()
			return blocked
		})),
	}
	node := prometheus.NewDesc(r.prefix+"broker_node",
		"1 for the broker node connected to (of the broker URLs, in their order, password hidden), 0 for the others.", []string{"node"}, nil)
	for i, url := range st.Nodes() {
		stats = append(stats, stat{node, prometheus.GaugeValue, boolGauge(func() bool {
			at, _ := st.Node()
			return at == i
		}), url})
	}
	return stats
}
