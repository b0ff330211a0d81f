// Command basic prints the type and id of every event of the Cisco Spaces
// Firehose. By default it reads an in-process mock for 3 s, so it runs
// anywhere; -endpoint URL reads another server (a `firehose mock`); only
// -real connects to Cisco, with the key in $FIREHOSE_API_KEY.
//
//	go run ./examples/basic
//	go run ./examples/basic -endpoint http://127.0.0.1:8080
//	FIREHOSE_API_KEY=… go run ./examples/basic -real -region eu
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts, srv, err := where.Options(firehosetest.WithRate(20), firehosetest.WithKeepAlive(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	if srv != nil {
		defer srv.Close()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		log.Printf("reading the in-process mock at %s for 3 s (-endpoint URL or -real for another)", srv.URL)
	}

	c, err := firehose.New(append(opts, firehose.WithTransport(firehose.TransportHTTP))...)
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
