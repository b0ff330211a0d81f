package firehose

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Client consumes one firehose with one configuration. It is safe for
// concurrent use; each Open or Run makes its own connections.
type Client struct {
	cfg *config

	mu    sync.Mutex
	stats []*counters // every stream opened, for Stats
}

// New returns a Client configured by opts. It validates every option and does
// no I/O; it never panics on bad input.
func New(opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("firehose: option %d is nil", i)
		}
		if err := opt(cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Client{cfg: cfg}, nil
}

// Open connects and returns the stream of the configured partitions. It
// returns once the first connection is established, so a fatal error (a wrong
// key: 401) surfaces from Open itself; recoverable ones (429, 5xx, network)
// are retried until ctx ends. ctx bounds Open only: the stream lives until
// Close. With a checkpoint configured, Open loads it first.
func (c *Client) Open(ctx context.Context) (Stream, error) {
	if c == nil || c.cfg == nil {
		return nil, errNotNew
	}
	if c.cfg.receivers > 1 {
		return nil, errors.New("firehose: WithReceivers runs a group: use Run")
	}
	s, err := c.newStream(c.cfg.rng)
	if err != nil {
		return nil, err
	}
	s.attachCheckpoints(newCheckpoints(c.cfg), []Range{c.cfg.rng})
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Run delivers every event to h until ctx ends (it then returns ctx's error),
// h returns an error (returned as is), or a fatal error. An event is finished
// when h returns nil. With WithReceivers(n), Run runs n receivers, h is
// called concurrently across them and in order within each, and the first
// fatal error stops them all.
func (c *Client) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("firehose: nil handler")
	}
	return c.run(ctx, func(ctx context.Context, s *stream) error {
		for {
			ev, err := s.Next(ctx)
			if err != nil {
				return err
			}
			if err := h(ctx, ev); err != nil {
				s.abandon(stringBytes(ev.id), ev.ts)
				return err
			}
		}
	})
}

// run drives one stream, or a group of them with WithReceivers, with loop.
func (c *Client) run(ctx context.Context, loop func(context.Context, *stream) error) error {
	if c == nil || c.cfg == nil {
		return errNotNew
	}
	if c.cfg.receivers > 1 {
		return c.runGroup(ctx, loop)
	}
	s, err := c.newStream(c.cfg.rng)
	if err != nil {
		return err
	}
	s.attachCheckpoints(newCheckpoints(c.cfg), []Range{c.cfg.rng})
	return drive(ctx, s, loop)
}

// drive opens s, runs loop, and closes s. A Close error (the final
// checkpoint) is returned when nothing else went wrong.
func drive(ctx context.Context, s *stream, loop func(context.Context, *stream) error) (err error) {
	defer func() {
		if cerr := s.Close(); cerr != nil && (err == nil || errors.Is(err, context.Canceled)) {
			err = cerr
		}
	}()
	if err := s.open(ctx); err != nil {
		return err
	}
	return loop(ctx, s)
}

// Stats sums the counters of every stream this client has opened; the
// watermark is the lowest one (the safe resume point of the group).
func (c *Client) Stats() Stats {
	s := Stats{Reconnects: map[Cause]int64{}}
	if c == nil || c.cfg == nil {
		return s
	}
	c.mu.Lock()
	for _, st := range c.stats {
		st.addTo(&s)
	}
	c.mu.Unlock()
	s.finish(c.cfg.now())
	return s
}

// ReceiverStats returns one snapshot per receiver stream that is open now,
// in the order they were opened (with WithReceivers: Plan(n)'s order). Each
// carries its Range; Stats is their sum over every stream ever opened.
func (c *Client) ReceiverStats() []Stats {
	if c == nil || c.cfg == nil {
		return nil
	}
	now := c.cfg.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Stats
	for _, st := range c.stats {
		if st.open.Load() {
			out = append(out, st.snapshot(now))
		}
	}
	return out
}

// String describes the client without its key.
func (c *Client) String() string {
	if c == nil || c.cfg == nil {
		return "firehose.Client{<not made by New>}"
	}
	if c.cfg.source != nil && c.cfg.source.Resume != ResumeTimestamp || c.cfg.endpoint == nil {
		return fmt.Sprintf("firehose.Client{source: %s, partitions: %s}", c.cfg.source.Name, c.cfg.rng)
	}
	return fmt.Sprintf("firehose.Client{endpoint: %s, transport: %s, partitions: %s}", c.cfg.endpoint.Redacted(), c.cfg.transport, c.cfg.rng)
}

func (c *Client) newStream(rng Range) (*stream, error) {
	if c == nil || c.cfg == nil {
		return nil, errNotNew
	}
	spec := c.cfg.source
	src, err := spec.New(SourceConfig{
		Range:        rng,
		MaxEventSize: c.cfg.maxEvent,
		IdleTimeout:  c.cfg.idle,
		Logger:       c.cfg.logger,
		Dial:         c.cfg.dial,
		TLSConfig:    c.cfg.tlsConfig,
	})
	if err != nil {
		return nil, c.cfg.secrets.cleanErr(fmt.Errorf("firehose: source %s: %w", spec.Name, err))
	}
	if src == nil {
		return nil, fmt.Errorf("firehose: source %s: New returned no Source", spec.Name)
	}
	st := &counters{source: spec.Name, rng: rng} // complete before Stats can see it
	st.open.Store(true)
	c.mu.Lock()
	c.stats = append(c.stats, st)
	c.mu.Unlock()
	return newStream(c.cfg, spec, src, rng, st), nil
}

// errNotNew is what a Client not made by New answers.
var errNotNew = errors.New("firehose: Client not made by New")

// open loads the checkpoint (if any) and makes the first connection.
func (s *stream) open(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadCheckpoint(ctx); err != nil {
		s.err = err
		return err
	}
	s.watchCaller(ctx)
	err := s.ensureConn(ctx)
	// ctx bounds Open only: stop watching it so its end later cannot cut the
	// stream.
	s.caller.reset()
	if err != nil {
		return s.fail(err)
	}
	return nil
}
