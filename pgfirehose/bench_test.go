package pgfirehose_test

import (
	"context"
	"testing"
	"time"

	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/pgfirehose"
)

// BenchmarkSink measures events/s from a loopback firehosetest server into
// PostgreSQL through a Sink with the batch defaults (1,000 events or 1 s),
// the checkpoint committed with each save:
//
//	eval "$(.ci/postgres.sh)"; cd pgfirehose && go test -run '^$' -bench Sink -benchtime 50000x .
func BenchmarkSink(b *testing.B) {
	ckTable, events := tables(b)
	srv := firehosetest.NewServer(firehosetest.WithHistory(b.N, time.Minute), firehosetest.WithKeepAlive(50*time.Millisecond))
	defer srv.Close()
	sink, err := pgfirehose.NewSink("", "bench", pgfirehose.WithCheckpointTable(ckTable), pgfirehose.WithTable(events))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	b.ResetTimer()
	start := time.Now()
	runSink(b, context.Background(), srv, sink, time.Now().Add(-2*time.Minute), func(n int64) bool { return n == int64(b.N) })
	el := time.Since(start)
	b.StopTimer()
	if st := sink.Stats(); st.Inserted != int64(b.N) {
		b.Fatalf("inserted %d of %d", st.Inserted, b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
}
