// Command inmemory pairs the client with a firehosetest mock in memory: no
// socket at all, the mock's connections are net.Pipes handed to the client
// through firehose.WithDialer. The same wiring lets testing/synctest drive
// the clock of a whole stream (keep-alives, idle timeouts, backoff) in a
// test that takes no real time.
//
//	go run ./examples/inmemory
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

func main() {
	srv := firehosetest.NewServer(
		firehosetest.WithInMemory(), // served on net.Pipe connections, no listener
		firehosetest.WithHistory(500, time.Minute),
		firehosetest.WithScript(firehosetest.Conn{After: 200, Action: firehosetest.CutMidLine}), // one cut, to see a reconnect
	)
	defer srv.Close()

	c, err := firehose.New(
		firehose.WithEndpoint(srv.URL), // the host is never resolved: the dialer below ignores it
		firehose.WithAPIKey(firehosetest.DefaultAPIKey),
		firehose.WithDialer(srv.DialContext),
		firehose.WithStart(time.Now().Add(-2*time.Minute)),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := map[string]bool{}
	err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
		seen[fmt.Sprint(ev.ID(), "@", ev.Timestamp())] = true
		if len(seen) == srv.Log().Len() {
			cancel()
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
	st := c.Stats()
	fmt.Printf("%d of %d events, each once, over %d connections (%d reconnect, %d duplicates dropped), no socket\n",
		len(seen), srv.Log().Len(), st.Connects, st.ReconnectTotal(), st.Duplicates)
}
