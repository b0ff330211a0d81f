package firehose

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Client consumes one firehose with one configuration. It is safe for
// concurrent use; each Open or Run makes its own connections.
type Client struct {
	cfg *config

	mu      sync.Mutex
	stats   []*counters        // the streams open now and those of the last run, for Stats
	retired counters           // the totals of every older stream, folded in as new ones open
	ckpts   []*checkpointState // the open streams' checkpoints, for CheckpointSoon
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
	c.attachCheckpoints(s, newCheckpoints(c.cfg), []Range{c.cfg.rng})
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
	c.attachCheckpoints(s, newCheckpoints(c.cfg), []Range{c.cfg.rng})
	return drive(ctx, s, loop)
}

// drive opens s, runs loop, and closes s. A Close error (the final
// checkpoint) is returned when nothing else went wrong.
func drive(ctx context.Context, s *stream, loop func(context.Context, *stream) error) (err error) {
	defer func() {
		// The final checkpoint's error always reaches the caller: alone when
		// the run ended normally (ctx done), beside the run's own otherwise.
		cerr := s.Close()
		switch {
		case cerr == nil:
		case err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			err = cerr
		default:
			err = errors.Join(err, cerr)
		}
	}()
	if err := s.open(ctx); err != nil {
		return err
	}
	return loop(ctx, s)
}

// Stats sums the counts (events, reconnects, gaps, ...) of every stream this
// client has opened. What describes the present — State, Connected, RetryAt,
// Watermark (the lowest: the safe resume point of the group), Range — is the
// open streams'; when none is open, the last ones' as they ended (a Run that
// returned reports StateStopped and its final watermark until the next Run
// starts).
func (c *Client) Stats() Stats {
	s := Stats{Reconnects: map[Cause]int64{}}
	if c == nil || c.cfg == nil {
		return s
	}
	c.mu.Lock()
	c.retired.addCounts(&s)
	anyOpen := slices.ContainsFunc(c.stats, func(st *counters) bool { return st.open.Load() })
	for _, st := range c.stats {
		st.addCounts(&s)
		if !anyOpen || st.open.Load() {
			st.addState(&s)
		}
	}
	c.mu.Unlock()
	s.finish(c.cfg.now())
	return s
}

// attachCheckpoints gives s its part of shared and lists it for CheckpointSoon.
func (c *Client) attachCheckpoints(s *stream, shared *checkpoints, live []Range) {
	s.attachCheckpoints(shared, live)
	if s.ckpt != nil {
		c.mu.Lock()
		// Closed streams are dropped as new ones come: a client that opens
		// streams for months keeps only the open ones here.
		c.ckpts = slices.DeleteFunc(c.ckpts, func(cs *checkpointState) bool { return cs.closed.Load() })
		c.ckpts = append(c.ckpts, s.ckpt)
		c.mu.Unlock()
	}
}

// CheckpointSoon asks every open stream of this client to save its
// checkpoint at the next chance: between two events, or at once when it is
// waiting for the network. A sink that commits its own batches calls it
// when a batch is full, so the checkpoint follows the batch. It does nothing
// without WithCheckpointer.
func (c *Client) CheckpointSoon() {
	if c == nil || c.cfg == nil {
		return
	}
	c.mu.Lock()
	cps := append([]*checkpointState(nil), c.ckpts...)
	c.mu.Unlock()
	for _, cs := range cps {
		if cs.closed.Load() {
			continue
		}
		cs.due.Store(true)
		cs.timer.Reset(0) // a parked stream saves now; an active one at its next tick
	}
}

// ReceiverStats returns one snapshot per receiver stream that is open now,
// in the order they were opened (with WithReceivers: Plan(n)'s order). Each
// carries its Range; Stats sums them with the counts of closed streams.
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

// String describes the client: every option that shapes its streams, the
// key and the source's secrets never.
func (c *Client) String() string {
	if c == nil || c.cfg == nil {
		return "firehose.Client{<not made by New>}"
	}
	cfg := c.cfg
	var b strings.Builder
	b.WriteString("firehose.Client{")
	add := func(k string, v any) {
		if b.Len() > len("firehose.Client{") {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %v", k, v)
	}
	if !cfg.cisco {
		add("source", cfg.source.Name)
	} else {
		add("endpoint", cfg.endpoint.Redacted())
		add("transport", cfg.transport)
		if cfg.key != "" {
			add("key", cfg.key)
		} else {
			add("key", "none")
		}
		if cfg.hasReplica {
			add("replicaId", cfg.replicaID)
		}
		if cfg.wsCompression {
			add("compression", "permessage-deflate")
		}
	}
	add("partitions", cfg.rng)
	if cfg.receivers > 1 {
		add("receivers", cfg.receivers)
	}
	if cfg.start > 0 {
		add("start", formatMillis(cfg.start))
	}
	add("margin", cfg.margin)
	add("window", cfg.window)
	add("idle", cfg.idle)
	add("maxEvent", cfg.maxEvent)
	add("dedupe", cfg.dedupeCap)
	add("backoff", fmt.Sprintf("%v..%v", cfg.backoffInitial, cfg.backoffMax))
	if cfg.retryLimit > 0 {
		add("retryLimit", cfg.retryLimit)
	}
	if cfg.checkpointer != nil {
		add("checkpoint", fmt.Sprintf("%T every %v", cfg.checkpointer, cfg.checkpointIntv))
	}
	b.WriteString("}")
	return b.String()
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
	// Closed streams no longer describe the present: their counts join the
	// retired totals, so a client that opens streams for months holds only
	// the open ones.
	c.stats = slices.DeleteFunc(c.stats, func(old *counters) bool {
		if old.open.Load() {
			return false
		}
		c.retired.absorb(old)
		return true
	})
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
