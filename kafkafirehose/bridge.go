package kafkafirehose

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/firehose-go/firehose"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrFailed is the class of the errors that stop a bridge: a record Kafka
// refused, a checkpoint that could not be written or committed. The
// checkpoint never moves past such a failure, so a restart repeats the work
// instead of losing it.
var ErrFailed = errors.New("kafkafirehose: failed")

type failure struct{ err error }

func (f *failure) Error() string        { return "kafkafirehose: " + f.err.Error() }
func (f *failure) Unwrap() error        { return f.err }
func (f *failure) Is(target error) bool { return target == ErrFailed }

// Stats is a snapshot of a bridge's counters.
type Stats struct {
	Firehose firehose.Stats // the source's counters (zero before Run)
	Produced int64          // records handed to the Kafka client
	Acked    int64          // records Kafka acknowledged
	Commits  int64          // checkpoints written (and, exactly-once, committed)
}

// Bridge forwards a firehose to a Kafka topic: each event becomes one record,
// keyed by the event's id, valued by the event exactly as received, with the
// event type and timestamp as headers. It keeps its checkpoint in Kafka too
// (see New). A Bridge runs once.
type Bridge struct {
	cfg *config

	ran atomic.Bool

	mu     sync.Mutex
	failed error                   // sticky: the first failure; every later save refuses
	stop   context.CancelCauseFunc // ends Run with that failure
	client *firehose.Client

	cl      *kgo.Client // producer (transactional in exactly-once mode)
	inTxn   bool        // exactly-once: a transaction is open (delivery goroutine only)
	ckptTop string

	produced, acked, commits atomic.Int64
}

// New returns a Bridge that writes to topic on the given seed brokers. It
// validates everything and does no I/O.
func New(brokers []string, topic string, opts ...Option) (*Bridge, error) {
	cfg := defaultConfig()
	if len(brokers) == 0 {
		return nil, errors.New("kafkafirehose: no brokers")
	}
	for _, b := range brokers {
		if b == "" {
			return nil, errors.New("kafkafirehose: empty broker address")
		}
	}
	cfg.brokers = append([]string(nil), brokers...)
	if err := validTopic(topic); err != nil {
		return nil, fmt.Errorf("kafkafirehose: %w", err)
	}
	cfg.topic = topic
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("kafkafirehose: option %d is nil", i)
		}
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.ckptTopic == "" {
		cfg.ckptTopic = topic + CheckpointTopicSuffix
		if err := validTopic(cfg.ckptTopic); err != nil {
			return nil, fmt.Errorf("kafkafirehose: checkpoint topic: %w", err)
		}
	}
	if cfg.ckptTopic == cfg.topic {
		return nil, errors.New("kafkafirehose: the checkpoint topic must differ from the event topic")
	}
	if cfg.txnID != "" && !cfg.exactlyOnce {
		return nil, errors.New("kafkafirehose: WithTransactionalID needs WithExactlyOnce")
	}
	if cfg.exactlyOnce && cfg.txnID == "" {
		cfg.txnID = DefaultTransactionalID(topic, cfg.rng)
	}
	return &Bridge{cfg: cfg, ckptTop: cfg.ckptTopic}, nil
}

// DefaultTransactionalID is the transactional id a bridge uses for topic and
// range r unless told otherwise: firehose-kafka-<topic>-<min>-<max>.
func DefaultTransactionalID(topic string, r firehose.Range) string {
	return "firehose-kafka-" + topic + "-" + r.String()
}

// Run connects to Kafka (creating the topics when they are missing), builds
// a firehose client from opts plus the bridge's own (its range, its
// checkpointer, its pre-save flush) and forwards every event until ctx ends
// (Run then returns ctx's error, after the work done so far is acknowledged
// and checkpointed), a fatal source error, or a Kafka failure (returned, the
// checkpoint left where it was). Do not pass a firehose Checkpointer, PreSave
// hook or partition option: the bridge owns them.
func (b *Bridge) Run(ctx context.Context, opts ...firehose.Option) (err error) {
	if !b.ran.CompareAndSwap(false, true) {
		return errors.New("kafkafirehose: a Bridge runs once")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	b.mu.Lock()
	b.stop = cancel
	b.mu.Unlock()

	all := append(append([]firehose.Option(nil), opts...),
		firehose.WithPartitions(b.cfg.rng.Min, b.cfg.rng.Max),
		firehose.WithCheckpointer((*checkpointer)(b)),
		firehose.WithPreSave(b.preSave),
	)
	client, err := firehose.New(all...)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.client = client
	b.mu.Unlock()

	if err := b.connect(ctx); err != nil {
		return err
	}
	defer b.close()

	err = client.Run(ctx, b.handle)
	if f := b.err(); f != nil {
		return f // a Kafka failure wins over how the source ended
	}
	if errors.Is(context.Cause(ctx), errLimit) && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, firehose.ErrClosed)) {
		return nil
	}
	return err
}

// Stats returns a snapshot of the bridge's counters; safe at any time.
func (b *Bridge) Stats() Stats {
	s := Stats{Produced: b.produced.Load(), Acked: b.acked.Load(), Commits: b.commits.Load()}
	b.mu.Lock()
	c := b.client
	b.mu.Unlock()
	if c != nil {
		s.Firehose = c.Stats()
	}
	return s
}

// handle forwards one event. It runs on the delivery goroutine; the record
// is acknowledged later, through promise.
func (b *Bridge) handle(ctx context.Context, ev *firehose.Event) error {
	if err := b.err(); err != nil {
		return err
	}
	rec := &kgo.Record{
		Topic:     b.cfg.topic,
		Key:       []byte(ev.ID()),
		Value:     ev.JSON(),
		Timestamp: ev.Time(),
		Headers: []kgo.RecordHeader{
			{Key: HeaderType, Value: []byte(ev.Type())},
			{Key: HeaderTimestamp, Value: strconv.AppendInt(nil, ev.Timestamp(), 10)},
		},
	}
	n := b.produced.Add(1)
	// Not ctx: its end (SIGTERM) must not fail records already accepted;
	// they are flushed and checkpointed on the way out.
	b.cl.Produce(context.WithoutCancel(ctx), rec, b.promise)
	if n == b.cfg.maxEvents {
		b.mu.Lock()
		b.stop(errLimit) // this event is finished: the final checkpoint covers it
		b.mu.Unlock()
	}
	return nil
}

var errLimit = errors.New("kafkafirehose: max events reached")

func (b *Bridge) promise(r *kgo.Record, err error) {
	if err != nil {
		b.fail(fmt.Errorf("record %s to %s: %w", r.Key, r.Topic, err))
		return
	}
	b.acked.Add(1)
}

// preSave runs on the delivery goroutine right before each checkpoint: every
// record produced so far must be acknowledged, and none may have failed.
func (b *Bridge) preSave() error {
	if err := b.err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.flushTimeout)
	defer cancel()
	if err := b.cl.Flush(ctx); err != nil {
		return b.fail(fmt.Errorf("records not acknowledged within %v: %w", b.cfg.flushTimeout, err))
	}
	return b.err() // a promise may have failed during the flush
}

// fail records the first failure, stops Run with it, and returns it.
func (b *Bridge) fail(err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failed == nil {
		b.failed = &failure{err: err}
		b.cfg.logger.Error("kafkafirehose: stopping", "err", err)
		if b.stop != nil {
			b.stop(b.failed)
		}
	}
	return b.failed
}

func (b *Bridge) err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed
}
