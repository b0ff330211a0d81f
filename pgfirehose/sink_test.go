package pgfirehose_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/pgfirehose"
)

// runSink runs a client with a Sink against srv until stop says so (after
// the event it is given returned from the handler) or ctx ends.
func runSink(t testing.TB, ctx context.Context, srv *firehosetest.Server, sink *pgfirehose.Sink, from time.Time, stop func(n int64) bool, extra ...firehose.Option) int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := append([]firehose.Option{firehose.WithEndpoint(srv.URL), firehose.WithAPIKey(firehosetest.DefaultAPIKey),
		firehose.WithStart(from)}, sink.Options()...)
	client, err := firehose.New(append(opts, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	err = client.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
		if err := sink.Handle(ctx, ev); err != nil {
			return err
		}
		if stop(n.Add(1)) {
			cancel()
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if err := sink.Err(); err != nil {
		t.Fatalf("last commit: %v", err)
	}
	return n.Load()
}

// checkTable compares the table with the mock's log: every event once.
func checkTable(t testing.TB, events string, log []firehosetest.Event) {
	t.Helper()
	ctx := context.Background()
	db := connect(t, ctx)
	defer db.Close(ctx)
	rows, err := db.Query(ctx, "SELECT id, ts, type, event->>'recordUid' FROM "+events)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		id string
		ts int64
	}
	got := map[key]int{}
	for rows.Next() {
		var k key
		var typ, uid string
		if err := rows.Scan(&k.id, &k.ts, &typ, &uid); err != nil {
			t.Fatal(err)
		}
		if uid != k.id || typ == "" {
			t.Fatalf("row %v: type %q, event's recordUid %q", k, typ, uid)
		}
		got[k]++
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	missing, dups := 0, 0
	for _, e := range log {
		switch got[key{e.UID, e.Timestamp}] {
		case 0:
			missing++
		case 1:
		default:
			dups++
		}
	}
	if missing != 0 || dups != 0 || len(got) != len(log) {
		t.Fatalf("table: %d rows for %d events in the log, %d missing, %d repeated", len(got), len(log), missing, dups)
	}
}

// TestSinkGracefulRestartIsExactlyOnce: a run stopped gracefully in the
// middle, then a second run with the same name: the table holds each event
// once, and the second run had nothing to absorb (0 conflicts).
func TestSinkGracefulRestartIsExactlyOnce(t *testing.T) {
	ckTable, events := tables(t)
	const total = 5000
	srv := firehosetest.NewServer(firehosetest.WithHistory(total, time.Minute), firehosetest.WithKeepAlive(50*time.Millisecond))
	defer srv.Close()
	from := time.Now().Add(-2 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	newSink := func() *pgfirehose.Sink {
		s, err := pgfirehose.NewSink("", "graceful", pgfirehose.WithCheckpointTable(ckTable), pgfirehose.WithTable(events),
			pgfirehose.WithBatch(300), pgfirehose.WithBatchWait(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := newSink()
	n1 := runSink(t, ctx, srv, first, from, func(n int64) bool { return n == 1234 })
	st1 := first.Stats()
	first.Close()
	if n1 != 1234 || st1.Inserted != 1234 || st1.Pending != 0 || st1.FullBatches == 0 {
		t.Fatalf("first run: handled %d, stats %+v; want 1234 inserted, some full batches, nothing pending", n1, st1)
	}
	second := newSink()
	defer second.Close()
	n2 := runSink(t, ctx, srv, second, from, func(n int64) bool { return n == total-1234 })
	st2 := second.Stats()
	t.Logf("first run %+v; second run %+v", st1, st2)
	if n2 != total-1234 || st2.Conflicts != 0 {
		t.Fatalf("second run: handled %d, %d conflicts; want %d and 0", n2, st2.Conflicts, total-1234)
	}
	checkTable(t, events, srv.Log().Events(1, 12))
}

// TestSinkCrashReplayIsAbsorbed: the events of a full batch committed ahead
// of the checkpoint, then a "crash" (the checkpoint rows put back to what
// the last save wrote): the replay is absorbed by the unique key.
func TestSinkReplayIsAbsorbed(t *testing.T) {
	ckTable, events := tables(t)
	const total = 2000
	srv := firehosetest.NewServer(firehosetest.WithHistory(total, time.Minute), firehosetest.WithKeepAlive(50*time.Millisecond))
	defer srv.Close()
	from := time.Now().Add(-2 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// An interval far longer than the test: only full batches are committed,
	// and the checkpoint is written only on Close — which we then undo.
	first, err := pgfirehose.NewSink("", "replay", pgfirehose.WithCheckpointTable(ckTable), pgfirehose.WithTable(events),
		pgfirehose.WithBatch(500), pgfirehose.WithBatchWait(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	runSink(t, ctx, srv, first, from, func(n int64) bool { return n == 1200 })
	first.Close()
	db := connect(t, ctx)
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, "DELETE FROM "+ckTable); err != nil { // as if killed before any save
		t.Fatal(err)
	}
	second, err := pgfirehose.NewSink("", "replay", pgfirehose.WithCheckpointTable(ckTable), pgfirehose.WithTable(events))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	runSink(t, ctx, srv, second, from, func(n int64) bool { return n == total })
	if st := second.Stats(); st.Conflicts != 1200 || st.Inserted != total-1200 {
		t.Fatalf("after the replay: %+v; want 1200 conflicts and %d inserted", st, total-1200)
	}
	checkTable(t, events, srv.Log().Events(1, 12))
}

// TestSinkSeveralReceivers: four receivers share one Sink; a graceful stop
// and restart still leave each event once, with no conflicts.
func TestSinkSeveralReceivers(t *testing.T) {
	ckTable, events := tables(t)
	const total = 4000
	srv := firehosetest.NewServer(firehosetest.WithHistory(total, time.Minute), firehosetest.WithKeepAlive(50*time.Millisecond))
	defer srv.Close()
	from := time.Now().Add(-2 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conflicts, handled int64
	for run := range 2 {
		s, err := pgfirehose.NewSink("", "group", pgfirehose.WithCheckpointTable(ckTable), pgfirehose.WithTable(events),
			pgfirehose.WithBatch(200), pgfirehose.WithBatchWait(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		stopAt := int64(1500) // the other receivers may finish a few more after the stop
		if run == 1 {
			stopAt = total - handled
		}
		handled += runSink(t, ctx, srv, s, from, func(n int64) bool { return n >= stopAt }, firehose.WithReceivers(4))
		conflicts += s.Stats().Conflicts
		s.Close()
	}
	if handled != total {
		t.Fatalf("handled %d events in two runs, want %d", handled, total)
	}
	if conflicts != 0 {
		t.Fatalf("%d conflicts across a graceful restart of 4 receivers", conflicts)
	}
	checkTable(t, events, srv.Log().Events(1, 12))
}

// TestSinkHandlerCommitsBatchesWithTheCheckpoint: with Sink.Handler, a full batch
// asks the engine for a save, so every batch is committed together with the
// checkpoint — none alone, even with a batch wait far longer than the test —
// and the position is in the table while the run goes on. A restart then
// repeats nothing.
func TestSinkHandlerCommitsBatchesWithTheCheckpoint(t *testing.T) {
	ckTable, events := tables(t)
	const total, batch = 3000, 500
	srv := firehosetest.NewServer(firehosetest.WithHistory(total, time.Minute), firehosetest.WithKeepAlive(50*time.Millisecond))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := connect(t, ctx)
	defer db.Close(ctx)
	from := time.Now().Add(-2 * time.Minute)
	// run runs a fresh Sink until until(its stats) holds, then stops it
	// gracefully; it returns the stats seen then and the checkpoint rows
	// stored at that moment.
	run := func(until func(pgfirehose.SinkStats) bool) (seen, final pgfirehose.SinkStats, saved int) {
		sink, err := pgfirehose.NewSink("", "run", pgfirehose.WithCheckpointTable(ckTable), pgfirehose.WithTable(events),
			pgfirehose.WithBatch(batch), pgfirehose.WithBatchWait(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		client, err := firehose.New(append([]firehose.Option{firehose.WithEndpoint(srv.URL),
			firehose.WithAPIKey(firehosetest.DefaultAPIKey), firehose.WithStart(from)}, sink.Options()...)...)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- client.Run(runCtx, sink.Handler(client)) }()
		for seen = sink.Stats(); !until(seen); seen = sink.Stats() {
			if ctx.Err() != nil {
				t.Fatalf("only %+v after 30 s", seen)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+ckTable).Scan(&saved); err != nil {
			t.Fatal(err)
		}
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
		if err := sink.Err(); err != nil {
			t.Fatalf("last commit: %v", err)
		}
		return seen, sink.Stats(), saved
	}
	seen, first, saved := run(func(st pgfirehose.SinkStats) bool { return st.Inserted >= 4*batch })
	if seen.FullBatches != 0 || seen.Batches < 4 || saved == 0 {
		t.Fatalf("while running: %+v, %d checkpoint rows; want every batch committed with the checkpoint (none alone) and a saved position", seen, saved)
	}
	_, second, _ := run(func(st pgfirehose.SinkStats) bool { return first.Inserted+st.Inserted+st.Pending == total })
	if second.Conflicts != 0 || second.FullBatches != 0 {
		t.Fatalf("after a graceful restart: %+v; want no conflicts, no batch alone", second)
	}
	checkTable(t, events, srv.Log().Events(1, 12))
}
