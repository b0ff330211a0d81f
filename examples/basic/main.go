// Command basic prints the type and id of every event of the Cisco Spaces
// Firehose. With FIREHOSE_API_KEY set it connects to Cisco (FIREHOSE_REGION:
// io, eu or sg); without, it starts the in-repo mock server so it runs
// anywhere.
//
//	go run ./examples/basic
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := []firehose.Option{firehose.WithTransport(firehose.TransportHTTP)}
	if key := os.Getenv("FIREHOSE_API_KEY"); key != "" {
		opts = append(opts, firehose.WithAPIKey(key), firehose.WithRegion(firehose.Region(envOr("FIREHOSE_REGION", "io"))))
	} else {
		srv := firehosetest.NewServer(firehosetest.WithRate(20), firehosetest.WithKeepAlive(2*time.Second))
		defer srv.Close()
		opts = append(opts, firehose.WithEndpoint(srv.URL), firehose.WithAPIKey("test-key"))
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		log.Printf("no FIREHOSE_API_KEY: reading the mock at %s for 3 s", srv.URL)
	}

	c, err := firehose.New(opts...)
	if err != nil {
		log.Fatal(err)
	}
	err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
		fmt.Printf("%s %-24s %s\n", ev.Time().UTC().Format(time.RFC3339Nano), ev.Type(), ev.ID())
		return nil
	})
	switch {
	case errors.Is(err, firehose.ErrFatal):
		log.Fatal(err) // a wrong key, a channel not enabled: retrying cannot help
	case err != nil && ctx.Err() == nil:
		log.Fatal(err)
	}
	st := c.Stats()
	log.Printf("%d events, %d duplicates dropped, %d keep-alives, %d reconnects", st.Events, st.Duplicates, st.KeepAlives, st.ReconnectTotal())
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
