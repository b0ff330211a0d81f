// Command receivers splits the twelve partitions over four parallel
// connections in one process, each with its own TCP connection, and counts
// events per receiver range. For one receiver per process (a Kubernetes
// StatefulSet whose ordinal is i), use firehose.WithReceiver(i, n) instead.
//
// By default it reads an in-process mock until it has every event of its log;
// -endpoint URL (a `firehose mock`) or -real (Cisco, the key in
// $FIREHOSE_API_KEY) read until interrupted.
//
//	go run ./examples/receivers
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/examples/internal/target"
	"github.com/firehose-go/firehose/firehosetest"
)

func main() {
	where := target.Flags(nil)
	flag.Parse()
	opts, srv, err := where.Options(firehosetest.WithHistory(4000, 5*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	if srv != nil {
		defer srv.Close()
	}

	plan, _ := firehose.Plan(4)
	fmt.Println("plan:", plan)

	c, err := firehose.New(append(opts,
		firehose.WithReceivers(4),
		firehose.WithStart(time.Now().Add(-10*time.Minute)),
	)...)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var mu sync.Mutex
	perType := map[firehose.EventType]int{}
	total := 0
	err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
		// Called concurrently across receivers, in order within each.
		mu.Lock()
		defer mu.Unlock()
		perType[ev.Type()]++
		total++
		if srv != nil && total == srv.Log().Len() {
			cancel()
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
	st := c.Stats()
	fmt.Printf("%d events over %d connections, %d duplicates dropped\n", total, st.Connects, st.Duplicates)
	for t, n := range perType {
		fmt.Printf("  %-24s %d\n", t, n)
	}
}
