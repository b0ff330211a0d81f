package bench

import (
	"context"
	"testing"

	"github.com/firehose-go/firehose/internal/benchrun"
)

// Each sub-benchmark op is one checked pass over the mock's whole history.
// The figures that matter are the custom metrics: events/s, cpu-ns/event
// (getrusage of this process; the mock is another one), allocs/event and
// MB/s of NDJSON. Under go test the borrowed rows also pay for poisoning the
// borrowed bytes after each callback (see BorrowedEvent); `firehose bench`
// does not. The node and node-raw sub-benchmarks run the Node peers of
// bench/peers as processes (their cpu-ns/event is that process's), where
// node and their node_modules are installed.

func BenchmarkHTTP(b *testing.B) { benchTransport(b, benchrun.HTTP) }
func BenchmarkWS(b *testing.B)   { benchTransport(b, benchrun.WS) }

// BenchmarkWSUnbatched is WebSocket from a server that writes every frame
// with its own write(2): the client's wake-ups per event.
func BenchmarkWSUnbatched(b *testing.B) { benchTransport(b, benchrun.WSUnbatched) }
func BenchmarkGRPC(b *testing.B)        { benchTransport(b, benchrun.GRPC) }

func benchTransport(b *testing.B, transport string) {
	m := sharedMock(b)
	ctx := context.Background()
	for _, r := range append(benchrun.Runners([]string{transport}, nil, ""), benchrun.PeerRunners([]string{transport}, peersDir(b))...) {
		b.Run(r.Client, func(b *testing.B) {
			if err := r.Probe(ctx, m, 20_000); err != nil {
				if transport == benchrun.HTTP {
					b.Fatal(err)
				}
				b.Skip(err)
			}
			var tot benchrun.Sample
			b.ResetTimer()
			for range b.N {
				s, err := r.Measure(ctx, m)
				if err != nil {
					b.Fatal(err)
				}
				tot.Add(s)
			}
			b.StopTimer()
			b.ReportMetric(tot.EventsPerSec(), "events/s")
			b.ReportMetric(tot.MBPerSec(), "MB/s")
			b.ReportMetric(tot.CPUPerEvent()*1e3, "cpu-ns/event")
			if !tot.Peer { // a peer's allocations are not counted
				b.ReportMetric(tot.AllocsPerEvent(), "allocs/event")
			}
		})
	}
}

// BenchmarkMemory runs the memory checks: Client.Run over 10 M live events
// (FIREHOSE_BENCH_MEMORY_EVENTS), the dedupe window's size, a slow handler.
func BenchmarkMemory(b *testing.B) {
	cfg := benchrun.Config{MemoryEvents: envInt("FIREHOSE_BENCH_MEMORY_EVENTS", benchrun.DefaultMemoryEvents)}
	for range b.N {
		rep, err := benchrun.RunMemory(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		last := rep.Flat[len(rep.Flat)-1]
		lo, hi, end := benchrun.HeapRange(rep.Flat, last.Events/10)
		_, slowHi, _ := benchrun.HeapRange(rep.Slow, 0)
		b.ReportMetric(float64(last.Events), "events")
		b.ReportMetric(float64(lo)/(1<<20), "heap-lo-MiB")
		b.ReportMetric(float64(hi)/(1<<20), "heap-hi-MiB")
		b.ReportMetric(float64(end)/(1<<20), "heap-end-MiB")
		b.ReportMetric(float64(rep.DedupeBytes)/(1<<20), "dedupe-MiB")
		b.ReportMetric(float64(slowHi)/(1<<20), "slow-heap-hi-MiB")
	}
}
