package kafkafirehose_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/kafkafirehose"
)

// BenchmarkBridge measures events/s from the mock firehose (a replay of
// history, as fast as it can be sent) into an in-process kfake cluster, with
// the bridge's defaults (1 s checkpoints), in each mode. Each iteration
// forwards benchEvents events into a fresh cluster.
//
//	go test -run '^$' -bench Bridge -benchtime 3x .
func BenchmarkBridge(b *testing.B) {
	const benchEvents = 50_000
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				b.StopTimer()
				c := newCluster(b)
				srv := firehosetest.NewServer(firehosetest.WithAPIKey("k"), firehosetest.WithHistory(benchEvents, 50*time.Minute))
				br, err := kafkafirehose.New(c.ListenAddrs(), "events", m.opts...)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := time.Now()
				err = runUntil(b, br, benchEvents, firehose.WithEndpoint(srv.URL), firehose.WithAPIKey("k"),
					firehose.WithStartMillis(time.Now().Add(-51*time.Minute).UnixMilli()))
				total += time.Since(t0)
				b.StopTimer()
				if !errors.Is(err, context.Canceled) {
					b.Fatal(err)
				}
				if st := br.Stats(); st.Commits == 0 {
					b.Fatalf("no checkpoint: %+v", st)
				}
				srv.Close()
				c.Close()
			}
			b.ReportMetric(float64(benchEvents*b.N)/total.Seconds(), "events/s")
		})
	}
}
