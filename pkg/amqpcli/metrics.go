package amqpcli

import (
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/metrics"
)

// MetricsFlag is --metrics-addr: off unless given, and bound only there.
func MetricsFlag() cli.Flag {
	return &cli.StringFlag{Name: "metrics-addr",
		Usage: "serve Prometheus metrics at http://`HOST:PORT`/metrics, and /healthz (port 0: any free port, logged with -v)"}
}

// ServeMetrics serves the program's metrics at --metrics-addr, when it is
// given: register adds the program's own to the registry. stop ends
// serving. The address (with the port picked for port 0) is logged at
// info level, as "serving metrics url=http://HOST:PORT/metrics".
func ServeMetrics(c *cli.Context, log *slog.Logger, register func(*metrics.Registry)) (stop func(), err error) {
	addr := c.String("metrics-addr")
	if addr == "" {
		return func() {}, nil
	}
	reg := metrics.NewRegistry(c.App.Name)
	register(reg)
	srv, err := reg.Serve(addr)
	if err != nil {
		return nil, cmdutil.Fatalf("--metrics-addr %s: %v", addr, err)
	}
	log.Info("serving metrics", "url", "http://"+srv.Addr()+"/metrics")
	return func() { srv.Close() }, nil
}
