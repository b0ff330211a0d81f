// Command borrowed forwards raw event lines with no copy per event: the
// fastest path, for handlers that are done with the bytes when they return.
//
// The rule: a BorrowedEvent's bytes are valid only until the handler returns.
// Keep nothing from it — copy what you need, or call Owned().
//
//	go run ./examples/borrowed > /dev/null
package main

import (
	"bufio"
	"context"
	"log"
	"os"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

func main() {
	srv := firehosetest.NewServer(firehosetest.WithHistory(20000, 5*time.Minute))
	defer srv.Close()
	c, err := firehose.New(
		firehose.WithEndpoint(srv.URL),
		firehose.WithAPIKey("test-key"),
		firehose.WithStart(time.Now().Add(-10*time.Minute)),
	)
	if err != nil {
		log.Fatal(err)
	}
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	defer out.Flush()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	keep := map[string]int64{} // what we keep must be copied: string(b) copies
	err = c.RunBorrowed(ctx, func(ctx context.Context, ev *firehose.BorrowedEvent) error {
		out.Write(ev.JSON()) // consumed before returning: fine
		out.WriteByte('\n')
		if ev.Type() == firehose.DeviceEntry {
			keep[string(ev.ID())] = ev.Timestamp() // a copy, safe to keep
		}
		if n++; n == srv.Log().Len() {
			cancel()
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
	log.Printf("forwarded %d events; kept %d device entries", n, len(keep))
}
