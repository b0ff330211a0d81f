package firehose

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ReceiverError tells which receiver of a group ended it.
type ReceiverError struct {
	Receiver int   // 0-based index in Plan(n)
	Range    Range // its partitions
	Err      error
}

func (e *ReceiverError) Error() string {
	return fmt.Sprintf("firehose: receiver %d (partitions %s): %v", e.Receiver, e.Range, e.Err)
}

func (e *ReceiverError) Unwrap() error { return e.Err }

// runGroup runs Plan(n)'s receivers, each with its own connection and stream,
// around one checkpoint store. The first error (fatal, or a handler's) stops
// them all and is returned with the receiver it came from.
func (c *Client) runGroup(ctx context.Context, loop func(context.Context, *stream) error) error {
	plan, err := Plan(c.cfg.receivers)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	shared := newCheckpoints(c.cfg)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i, rng := range plan {
		s, err := c.newStream(rng)
		if err != nil {
			return err
		}
		c.attachCheckpoints(s, shared, plan)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := drive(ctx, s, loop)
			if err == nil || (ctx.Err() != nil && errors.Is(err, context.Cause(ctx))) {
				return
			}
			once.Do(func() {
				first = &ReceiverError{Receiver: i, Range: rng, Err: err}
				cancel(first)
			})
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
