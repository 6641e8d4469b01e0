// Command hms-devdb runs a MongoDB-compatible development server (FerretDB
// v1.24 with its SQLite backend, see package devdb) until SIGINT or SIGTERM.
// It prints its URI on stdout once it accepts connections.
//
//	hms-devdb [-addr 127.0.0.1:27017] [-dir ./hms-devdb-data] [-log]
//
// It is a tool for development, tests and demos, not one of the hms binaries;
// scripts/devdb.sh runs it in the background.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hms-toolkit/hms/pkg/devdb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:27017", "TCP `address` to listen on (port 0: any free port)")
	dir := flag.String("dir", "hms-devdb-data", "data `directory` (created if missing)")
	verbose := flag.Bool("log", false, "log FerretDB's messages on stderr")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: hms-devdb [-addr host:port] [-dir path] [-log]\n\n"+
			"Runs FerretDB (SQLite backend) as a MongoDB-compatible dev server until SIGINT/SIGTERM\n"+
			"and prints its URI on stdout.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}

	opts := devdb.Options{Addr: *addr, Dir: *dir}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)

	s, err := devdb.Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hms-devdb: error: %v\n", err)
		os.Exit(2)
	}
	fmt.Println(s.URI())
	<-sig
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "hms-devdb: error: %v\n", err)
		os.Exit(2)
	}
}
