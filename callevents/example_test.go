package callevents_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/callevents"
	"github.com/firehose-go/firehose/callevents/calleventstest"
)

func Example() {
	srv := calleventstest.NewServer(calleventstest.WithWrap(calleventstest.WrapBlackhole))
	defer srv.Close()

	c, err := firehose.New(callevents.Source(callevents.Config{
		BaseURL:  srv.URL,
		Username: "admin", Password: "adminpassword", Domain: "master.test",
		Events: []string{callevents.ChannelAnswer},
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		srv.WaitSockets(ctx, 1)
		srv.Publish(calleventstest.CustomerAccount, callevents.ChannelCreate, nil) // filtered out
		srv.Publish(calleventstest.CustomerAccount, callevents.ChannelAnswer, nil)
	}()
	stop := errors.New("done")
	err = c.Run(ctx, func(_ context.Context, ev *firehose.Event) error {
		fmt.Println(ev.Type())
		return stop
	})
	fmt.Println(err == stop)
	// Output:
	// CHANNEL_ANSWER
	// true
}
