package octave_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/octave"
	"github.com/firehose-go/firehose/octave/octavetest"
)

// Consume one stream of a (mock) Octave, with gap-fill, until three events have come.
func ExampleSource() {
	srv := octavetest.NewServer(octavetest.WithStream("/test-co/devices/d1/cpu", -1))
	defer srv.Close()

	streams, err := octave.NewStreams("/test-co/devices/d1/cpu")
	if err != nil {
		panic(err)
	}
	c, err := firehose.New(octave.Source(octave.Config{
		Company: octavetest.DefaultCompany, User: octavetest.DefaultUser, Token: octavetest.DefaultToken,
		Streams:  streams,
		Endpoint: srv.URL, // the real ones are the defaults
		REST:     srv.URL,
		GapFill:  true,
	}))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		// Publish once the subscription is acknowledged.
		for len(srv.Requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		srv.Publish("/test-co/devices/d1/cpu", map[string]float64{"load": 0.25}, map[string]float64{"load": 0.5}, map[string]float64{"load": 0.75})
	}()
	n := 0
	err = c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
		var e struct {
			Elems struct{ Load float64 }
		}
		if err := ev.Decode(&e); err != nil {
			return err
		}
		fmt.Println(ev.Type(), e.Elems.Load)
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Println(err)
	}
	// Output:
	// /test-co/devices/d1/cpu 0.25
	// /test-co/devices/d1/cpu 0.5
	// /test-co/devices/d1/cpu 0.75
}
