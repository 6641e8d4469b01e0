package main

import (
	"context"
	"fmt"
	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: "127.0.0.1:27099"},
		Handler:  "sqlite",
		SQLiteURL: "file:/tmp/fdbtest/data/",
	})
	if err != nil { panic(err) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	fmt.Println(f.MongoDBURI())
	cancel(); <-done
}
