package kafkafirehose

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// clientOpts are the options of every Kafka client the bridge makes: the
// caller's first, so the bridge's own win.
func (b *Bridge) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := append([]kgo.Opt(nil), b.cfg.kgoOpts...)
	opts = append(opts, kgo.SeedBrokers(b.cfg.brokers...))
	return append(opts, extra...)
}

// connect makes the producer, creates the topics that are missing and, in
// exactly-once mode, fences any earlier incarnation of this range (its open
// transaction is aborted) and opens the first transaction.
func (b *Bridge) connect(ctx context.Context) error {
	opts := b.clientOpts(
		kgo.DefaultProduceTopic(b.cfg.topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	)
	if b.cfg.exactlyOnce {
		opts = append(opts, kgo.TransactionalID(b.cfg.txnID), kgo.TransactionTimeout(b.cfg.txnTimeout))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafkafirehose: %w", err)
	}
	b.cl = cl
	if err := b.ensureTopics(ctx); err != nil {
		cl.Close()
		return err
	}
	if !b.cfg.exactlyOnce {
		return nil
	}
	// InitProducerID with our transactional id bumps the epoch: a zombie of
	// this range can no longer write, and its open transaction is aborted,
	// so the checkpoint read next is final.
	err = retry(ctx, b.cfg.flushTimeout, func() error {
		_, _, err := cl.ProducerID(ctx)
		return err
	})
	if err == nil {
		err = cl.BeginTransaction()
	}
	if err != nil {
		cl.Close()
		return fmt.Errorf("kafkafirehose: starting transactional producer %q: %w", b.cfg.txnID, err)
	}
	b.inTxn = true
	return nil
}

// close ends an open transaction (aborting what no checkpoint covers) and
// closes the producer.
func (b *Bridge) close() {
	if b.cfg.exactlyOnce && b.inTxn {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := b.cl.AbortBufferedRecords(ctx); err == nil {
			_ = b.cl.EndTransaction(ctx, kgo.TryAbort)
		}
		cancel()
		b.inTxn = false
	}
	b.cl.Close()
}

// ensureTopics creates the event topic and the compacted checkpoint topic
// unless they exist.
func (b *Bridge) ensureTopics(ctx context.Context) error {
	adm := kadm.NewClient(b.cl)
	compact := "compact"
	if err := b.createTopic(ctx, adm, b.cfg.topic, b.cfg.topicPartitions, b.cfg.replication, nil); err != nil {
		return err
	}
	return b.createTopic(ctx, adm, b.cfg.ckptTopic, 1, b.cfg.replication, map[string]*string{"cleanup.policy": &compact})
}

func (b *Bridge) createTopic(ctx context.Context, adm *kadm.Client, topic string, parts int32, repl int16, configs map[string]*string) error {
	err := retry(ctx, b.cfg.flushTimeout, func() error {
		resp, err := adm.CreateTopic(ctx, parts, repl, configs, topic)
		if err == nil {
			err = resp.Err
		}
		if errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		if err == nil {
			b.cfg.logger.Info("kafkafirehose: created topic", "topic", topic, "configs", len(configs))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("kafkafirehose: creating topic %s: %w", topic, err)
	}
	return nil
}

// retry calls fn until it succeeds, fails with an error that retrying cannot
// fix, ctx ends or limit passes; it waits with a doubling backoff.
func retry(ctx context.Context, limit time.Duration, fn func() error) error {
	deadline := time.Now().Add(limit)
	wait := 50 * time.Millisecond
	for {
		err := fn()
		if err == nil || !retriable(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// retriable: a Kafka error code marked retriable, or anything that is not a
// Kafka error code at all (a dropped connection, a broker restarting).
func retriable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable
	}
	return true
}
