// Command borrowed forwards raw event lines with no copy per event: the
// fastest path, for handlers that are done with the bytes when they return.
//
// The rule: a BorrowedEvent's bytes are valid only until the handler returns.
// Keep nothing from it — copy what you need, or call Owned().
//
// By default it reads an in-process mock until it has every event of its log;
// -endpoint URL (a `firehose mock`) or -real (Cisco, the key in
// $FIREHOSE_API_KEY) read until interrupted.
//
//	go run ./examples/borrowed > /dev/null
package main

import (
	"bufio"
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/examples/internal/target"
	"github.com/firehose-go/firehose/firehosetest"
)

func main() {
	where := target.Flags(nil)
	flag.Parse()
	opts, srv, err := where.Options(firehosetest.WithHistory(20000, 5*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	if srv != nil {
		defer srv.Close()
	}
	c, err := firehose.New(append(opts, firehose.WithStart(time.Now().Add(-10*time.Minute)))...)
	if err != nil {
		log.Fatal(err)
	}
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	defer out.Flush()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 0
	keep := map[string]int64{} // what we keep must be copied: string(b) copies
	err = c.RunBorrowed(ctx, func(ctx context.Context, ev *firehose.BorrowedEvent) error {
		out.Write(ev.JSON()) // consumed before returning: fine
		out.WriteByte('\n')
		if ev.Type() == firehose.DeviceEntry {
			keep[string(ev.ID())] = ev.Timestamp() // a copy, safe to keep
		}
		if n++; srv != nil && n == srv.Log().Len() {
			cancel()
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
	log.Printf("forwarded %d events; kept %d device entries", n, len(keep))
}
