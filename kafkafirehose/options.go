package kafkafirehose

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults. Each With* option's documentation repeats the one it overrides.
const (
	// DefaultFlushTimeout bounds how long a checkpoint waits for Kafka to
	// acknowledge the records before it: long enough to ride out a broker
	// election or a few seconds of NOT_ENOUGH_REPLICAS, short enough that a
	// cluster that is gone ends the bridge instead of hanging it.
	DefaultFlushTimeout = time.Minute
	// DefaultTransactionTimeout is the broker-side limit of one transaction
	// in exactly-once mode. A transaction normally lasts one checkpoint
	// interval (1 s), but it stays open while the source is silent and
	// reconnects (idle timeout 45 s plus backoff), so it is generous.
	DefaultTransactionTimeout = 5 * time.Minute
	// CheckpointTopicSuffix makes the default checkpoint topic: <topic>-checkpoints.
	CheckpointTopicSuffix = "-checkpoints"
	// HeaderType and HeaderTimestamp name the headers of every record.
	HeaderType      = "type"
	HeaderTimestamp = "timestamp" // epoch milliseconds, decimal
)

// Option configures a Bridge. New reports the first invalid one.
type Option func(*config) error

type config struct {
	brokers         []string
	topic           string
	ckptTopic       string
	exactlyOnce     bool
	txnID           string
	rng             firehose.Range
	topicPartitions int32
	replication     int16
	flushTimeout    time.Duration
	txnTimeout      time.Duration
	kgoOpts         []kgo.Opt
	maxEvents       int64
	logger          *slog.Logger
}

func defaultConfig() *config {
	return &config{
		rng:             firehose.AllPartitions,
		topicPartitions: -1,
		replication:     -1,
		flushTimeout:    DefaultFlushTimeout,
		txnTimeout:      DefaultTransactionTimeout,
		logger:          slog.New(slog.DiscardHandler),
	}
}

// WithExactlyOnce turns on exactly-once mode: records are written in
// transactions, and each checkpoint is written to the checkpoint topic inside
// the transaction of the records before it, then committed (Kafka Connect's
// exactly-once source design). A consumer that reads with read_committed sees
// every event once, across crashes. One receiver per process: a firehose
// client with several receivers (firehose.WithReceivers) is refused. Default:
// at-least-once.
func WithExactlyOnce() Option {
	return func(c *config) error {
		c.exactlyOnce = true
		return nil
	}
}

// WithCheckpointTopic sets the compacted topic that keeps the checkpoint,
// one record per receiver range (key: the range, such as "1-12"). Default
// <topic>-checkpoints.
func WithCheckpointTopic(t string) Option {
	return func(c *config) error {
		if err := validTopic(t); err != nil {
			return fmt.Errorf("kafkafirehose: checkpoint topic: %w", err)
		}
		c.ckptTopic = t
		return nil
	}
}

// WithTransactionalID sets the transactional.id of exactly-once mode. It must
// be fixed per receiver range and unique across ranges: a restarted process
// fences the zombie it replaces through it. Default
// firehose-kafka-<topic>-<range>, such as firehose-kafka-events-1-12.
func WithTransactionalID(id string) Option {
	return func(c *config) error {
		if id == "" {
			return errors.New("kafkafirehose: empty transactional id")
		}
		c.txnID = id
		return nil
	}
}

// WithRange sets the partition range this bridge receives; the bridge gives
// the firehose client the same range (firehose.WithPartitions), and keys its
// checkpoint and default transactional id by it. Use firehose.Receiver(i, n)
// for receiver i of n. Default: all twelve partitions.
func WithRange(r firehose.Range) Option {
	return func(c *config) error {
		if err := r.Validate(); err != nil {
			return err
		}
		c.rng = r
		return nil
	}
}

// WithTopicCreation sets the partition count and replication factor used when
// the bridge creates the event topic (it never alters an existing one).
// -1 means the broker's default, which is the default for both.
func WithTopicCreation(partitions int32, replication int16) Option {
	return func(c *config) error {
		if partitions == 0 || partitions < -1 || replication == 0 || replication < -1 {
			return fmt.Errorf("kafkafirehose: topic creation %d partitions, replication %d: want > 0 or -1", partitions, replication)
		}
		c.topicPartitions, c.replication = partitions, replication
		return nil
	}
}

// WithFlushTimeout bounds how long a checkpoint waits for the records before
// it to be acknowledged; past it the bridge stops with an error (nothing is
// lost: the checkpoint did not move). Default 1 min.
func WithFlushTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("kafkafirehose: flush timeout %v: want > 0", d)
		}
		c.flushTimeout = d
		return nil
	}
}

// WithTransactionTimeout sets the broker-side timeout of one transaction in
// exactly-once mode. Default 5 min.
func WithTransactionTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("kafkafirehose: transaction timeout %v: want > 0", d)
		}
		c.txnTimeout = d
		return nil
	}
}

// WithClientOptions adds franz-go options (TLS, SASL, a dialer, batching) to
// the bridge's Kafka clients. The bridge sets the seed brokers, the default
// topic, acks=all and idempotence, and in exactly-once mode the
// transactional id; options that contradict them make Run fail or are
// overridden.
func WithClientOptions(opts ...kgo.Opt) Option {
	return func(c *config) error {
		for i, o := range opts {
			if o == nil {
				return fmt.Errorf("kafkafirehose: client option %d is nil", i)
			}
		}
		c.kgoOpts = append(c.kgoOpts, opts...)
		return nil
	}
}

// WithLogger sets the logger for topic creation, loads, commits and produce
// failures. Default: silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("kafkafirehose: nil logger")
		}
		c.logger = l
		return nil
	}
}

func validTopic(t string) error {
	if t == "" || t == "." || t == ".." || len(t) > 249 {
		return fmt.Errorf("topic %q: want 1 to 249 characters, not . or ..", t)
	}
	if i := strings.IndexFunc(t, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}); i >= 0 {
		return fmt.Errorf("topic %q: only ASCII letters, digits, '.', '_' and '-'", t)
	}
	return nil
}

// WithMaxEvents makes Run return nil once n events were forwarded, after
// they are acknowledged and checkpointed. Default 0: no limit.
func WithMaxEvents(n int64) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("kafkafirehose: max events %d: want >= 0", n)
		}
		c.maxEvents = n
		return nil
	}
}
