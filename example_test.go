package firehose_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// Run delivers each event once; returning nil finishes it.
func ExampleClient_Run() {
	srv := firehosetest.NewServer(firehosetest.WithHistory(5, time.Second))
	defer srv.Close()

	c, err := firehose.New(
		firehose.WithEndpoint(srv.URL),
		firehose.WithAPIKey("test-key"),
		firehose.WithStart(time.Now().Add(-time.Minute)),
	)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
		if n++; n == 5 {
			cancel()
		}
		return nil
	})
	fmt.Println(n, errors.Is(err, context.Canceled), c.Stats().Events)
	// Output: 5 true 5
}

// A wrong key is fatal at once: no retry loop.
func ExampleClient_Open_wrongKey() {
	srv := firehosetest.NewServer()
	defer srv.Close()

	c, _ := firehose.New(firehose.WithEndpoint(srv.URL), firehose.WithAPIKey("not-the-key"))
	_, err := c.Open(context.Background())
	var se *firehose.StatusError
	fmt.Println(errors.Is(err, firehose.ErrFatal), errors.As(err, &se) && se.Code == 401)
	// Output: true true
}

// Pull events with a range loop; breaking out finishes the last one.
func ExampleStream_All() {
	srv := firehosetest.NewServer(firehosetest.WithHistory(3, time.Second))
	defer srv.Close()

	c, _ := firehose.New(firehose.WithEndpoint(srv.URL), firehose.WithAPIKey("test-key"),
		firehose.WithStart(time.Now().Add(-time.Minute)))
	s, err := c.Open(context.Background())
	if err != nil {
		panic(err)
	}
	defer s.Close()
	n := 0
	for ev, err := range s.All(context.Background()) {
		if err != nil {
			panic(err)
		}
		_ = ev.Type()
		if n++; n == 3 {
			break
		}
	}
	fmt.Println(n, s.Stats().Watermark > 0)
	// Output: 3 true
}

func ExamplePlan() {
	plan, _ := firehose.Plan(5)
	fmt.Println(plan)
	// Output: [1-3 4-6 7-8 9-10 11-12]
}
