// Command checkpoint is a restart-safe consumer: it keeps its position in a
// file, so a graceful stop and restart repeats nothing and loses nothing; a
// crash repeats at most about one checkpoint interval of events.
//
// By default it shows a restart against an in-process mock: it stops after
// 300 events, starts a new client on the same file and the same server, and
// checks that nothing repeats and nothing is missing. With -endpoint URL (a
// `firehose mock`) or -real (Cisco, the key in $FIREHOSE_API_KEY) it consumes
// until interrupted (Ctrl-C saves the position; run it again to resume).
//
//	go run ./examples/checkpoint -file /tmp/fh.ckpt
//	FIREHOSE_API_KEY=… go run ./examples/checkpoint -real -file /tmp/fh.ckpt
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/examples/internal/target"
	"github.com/firehose-go/firehose/firehosetest"
)

func main() {
	file := flag.String("file", filepath.Join(os.TempDir(), "firehose-example.ckpt"), "checkpoint file")
	where := target.Flags(nil)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store := firehose.NewFileCheckpointer(*file)

	if !where.Mock() {
		opts, _, err := where.Options()
		if err != nil {
			log.Fatal(err)
		}
		c, err := firehose.New(append(opts, firehose.WithCheckpointer(store))...)
		if err != nil {
			log.Fatal(err)
		}
		err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
			fmt.Println(ev.Type(), ev.ID(), ev.Timestamp())
			return nil
		})
		if err != nil && ctx.Err() == nil {
			log.Fatal(err)
		}
		return
	}

	os.Remove(*file) // a fresh start for the demonstration
	srv := firehosetest.NewServer(firehosetest.WithHistory(1000, 5*time.Minute))
	defer srv.Close()
	seen := map[string]int{}
	run := func(limit int) {
		c, err := firehose.New(firehose.WithEndpoint(srv.URL), firehose.WithAPIKey("test-key"),
			firehose.WithCheckpointer(store),
			firehose.WithStart(time.Now().Add(-10*time.Minute))) // used only when the file does not exist yet
		if err != nil {
			log.Fatal(err)
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		n := 0
		err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
			seen[fmt.Sprint(ev.ID(), "@", ev.Timestamp())]++
			if n++; n == limit || len(seen) == srv.Log().Len() {
				cancel() // a graceful stop: the position is saved on the way out
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			log.Fatal(err)
		}
		log.Printf("run delivered %d events and stopped; position saved in %s", n, *file)
	}
	run(300)
	run(-1) // a new client: resumes from the file
	repeated := 0
	for _, n := range seen {
		if n > 1 {
			repeated++
		}
	}
	fmt.Printf("%d of %d events seen, %d repeated across the restart\n", len(seen), srv.Log().Len(), repeated)
}
