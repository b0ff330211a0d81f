package bench

import (
	"context"
	"testing"
	"time"

	"github.com/firehose-go/firehose/internal/benchrun"
)

// TestSlowHandlerHeapFlat runs a handler that sleeps on every event against a
// mock (in another process) that never waits for the clock: the engine reads
// only when the handler asks, so the heap must not grow while the backlog
// does. The live heap (sampled after a GC) is compared half against half.
func TestSlowHandlerHeapFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("needs 2 s")
	}
	ctx := context.Background()
	m, err := benchrun.StartMock(ctx, benchrun.MockSpec{Rate: benchrun.MemoryRate, Seed: benchrun.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ss, err := benchrun.HeapRun(ctx, m, 0, 200*time.Microsecond, 2*time.Second, 100*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) < 10 || ss[len(ss)-1].Events == 0 {
		t.Fatalf("too few samples or no events: %+v", ss)
	}
	half := len(ss) / 2
	var first, second uint64
	for i, s := range ss {
		if i < half {
			first = max(first, s.HeapAlloc)
		} else {
			second = max(second, s.HeapAlloc)
		}
	}
	t.Logf("%d events; live heap peak %.2f MiB in the first second, %.2f MiB in the second", ss[len(ss)-1].Events, float64(first)/(1<<20), float64(second)/(1<<20))
	if second > first+2<<20 {
		t.Errorf("heap grew under a slow handler: peak %.2f MiB, then %.2f MiB", float64(first)/(1<<20), float64(second)/(1<<20))
	}
}
