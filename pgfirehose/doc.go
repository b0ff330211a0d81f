// Package pgfirehose keeps a firehose's position, and optionally its events,
// in PostgreSQL.
//
// Two pieces, both firehose.Checkpointer implementations:
//
//   - Checkpointer stores the checkpoint in a table, one row per partition
//     range. A session advisory lock on the checkpoint's name fences a second
//     process that uses the same name: its Load fails, and it never writes.
//   - Sink writes the events themselves, in batches, together with the
//     checkpoint in one transaction, so the table receives every event
//     exactly once across graceful stops, restarts and kill -9.
//
// A Sink in use:
//
//	sink, err := pgfirehose.NewSink(os.Getenv("DATABASE_URL"), "cisco/eu/1-12")
//	if err != nil { ... }
//	defer sink.Close()
//	c, err := firehose.New(append(sink.Options(), firehose.WithAPIKey(key))...)
//	if err != nil { ... }
//	err = c.Run(ctx, sink.Handler(c)) // the last batch is committed before Run returns
//
// # How exactly-once holds
//
// The handler only buffers (Handle). The engine saves the checkpoint on the
// delivery goroutine between two events — every batch wait (Options sets
// WithCheckpointInterval to it) and when the stream closes — and the Sink's
// Save commits, in one transaction, the buffered events and the checkpoint
// rows. The events handled before a checkpoint snapshot are exactly the ones
// in the buffer (or committed earlier), so a committed checkpoint never
// claims an event that is not in the table: nothing is lost. A transaction
// that fails commits nothing and keeps the buffer for the next attempt.
//
// When a batch fills before the next save, Handler asks the client for a
// save at once (Client.CheckpointSoon): the engine saves right after that
// event, and the batch is committed with the checkpoint like any other.
// Handle, which has no client to ask, commits the buffer alone instead (as
// does Handler should the buffer reach two batches, a save having failed):
// those events are then ahead of the stored checkpoint. If the process dies
// before the next save, the restart replays them (and the uncommitted ones);
// the table's primary key on (id, ts) absorbs the replayed rows with
// INSERT … ON CONFLICT DO NOTHING and counts them (Stats().Conflicts). So
// the table holds each event once; the replay is bounded by about one batch
// wait of events. A graceful stop commits everything with the final
// checkpoint, and the restart repeats nothing (0 conflicts).
//
// With several receivers (firehose.WithReceivers), handlers run
// concurrently and share the buffer; each receiver's save commits the whole
// buffer with every range's latest snapshot. A range's snapshot is only ever
// taken after all its handled events were buffered, so a commit can put
// another range's events ahead of its checkpoint, never behind it: the same
// argument holds, range by range.
package pgfirehose
