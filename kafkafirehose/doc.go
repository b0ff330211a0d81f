// Package kafkafirehose forwards a firehose to a Kafka topic without losing,
// repeating or hanging.
//
//	b, err := kafkafirehose.New([]string{"kafka:9092"}, "events", kafkafirehose.WithExactlyOnce())
//	if err != nil { ... }
//	err = b.Run(ctx, firehose.WithAPIKey(key)) // until ctx ends; the work is committed first
//
// Each event becomes one record: key = the event's id, value = the event as
// received (Event.JSON), headers "type" and "timestamp" (epoch ms), record
// timestamp = the event's. The position is kept in Kafka, in a compacted
// checkpoint topic (default <topic>-checkpoints), one record per receiver
// range; topics that are missing are created.
//
// At-least-once (default): before each checkpoint (every second) the bridge
// waits until Kafka has acknowledged every record before it; if one was
// refused, the checkpoint is not written and Run stops with the error
// (ErrFailed). A crash repeats at most about one checkpoint interval.
//
// Exactly-once (WithExactlyOnce): the records of one interval and the
// checkpoint that follows them are one Kafka transaction, with a
// transactional.id fixed per range, so a restart fences the process it
// replaces and resumes from the last committed checkpoint: a consumer reading
// with isolation.level=read_committed sees every event once. One receiver per
// process.
//
// Retriable broker errors (NOT_ENOUGH_REPLICAS, leader elections) are retried
// by the Kafka client; a checkpoint waits for them up to WithFlushTimeout.
package kafkafirehose
