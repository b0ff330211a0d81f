package pgfirehose

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults.
const (
	DefaultCheckpointTable = "firehose_checkpoints"
	DefaultEventTable      = "firehose_events"
	DefaultBatchSize       = 1000
	DefaultBatchWait       = time.Second
	DefaultLockWait        = 3 * time.Second
)

// Option configures a Checkpointer or a Sink.
type Option func(*config) error

type config struct {
	checkpointTable string
	eventTable      string
	batch           int
	wait            time.Duration
	lockWait        time.Duration
}

func defaultConfig() *config {
	return &config{
		checkpointTable: DefaultCheckpointTable,
		eventTable:      DefaultEventTable,
		batch:           DefaultBatchSize,
		wait:            DefaultBatchWait,
		lockWait:        DefaultLockWait,
	}
}

func newConfig(opts []Option) (*config, error) {
	c := defaultConfig()
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("pgfirehose: option %d is nil", i)
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// WithCheckpointTable sets the checkpoint table, optionally schema-qualified
// ("ops.firehose_checkpoints"). Default firehose_checkpoints. It is created
// if missing.
func WithCheckpointTable(name string) Option {
	return func(c *config) error {
		if err := checkTableName(name); err != nil {
			return err
		}
		c.checkpointTable = name
		return nil
	}
}

// WithTable sets the Sink's event table, optionally schema-qualified.
// Default firehose_events. It is created if missing.
func WithTable(name string) Option {
	return func(c *config) error {
		if err := checkTableName(name); err != nil {
			return err
		}
		c.eventTable = name
		return nil
	}
}

// WithBatch sets how many events the Sink buffers before it commits them
// (default 1,000). Zero or negative is an error.
func WithBatch(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("pgfirehose: batch %d: want > 0", n)
		}
		c.batch = n
		return nil
	}
}

// WithBatchWait sets how long an event may wait in the Sink's buffer: the
// checkpoint interval the Sink's Options give the client (default 1 s).
// Zero or negative is an error.
func WithBatchWait(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("pgfirehose: batch wait %v: want > 0", d)
		}
		c.wait = d
		return nil
	}
}

// WithLockWait sets how long the first Load (or a reconnect) waits for the
// checkpoint's advisory lock before it fails with ErrLocked (default 3 s):
// long enough for the session of a process killed a moment ago to end. Zero
// means do not wait; negative is an error.
func WithLockWait(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("pgfirehose: lock wait %v: want >= 0", d)
		}
		c.lockWait = d
		return nil
	}
}

func checkTableName(name string) error {
	if name == "" {
		return errors.New("pgfirehose: empty table name")
	}
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return fmt.Errorf("pgfirehose: table %q: want NAME or SCHEMA.NAME", name)
	}
	for _, p := range parts {
		if p == "" {
			return fmt.Errorf("pgfirehose: table %q: empty part", name)
		}
	}
	return nil
}
