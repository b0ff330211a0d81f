package benchrun

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/internal/dedupe"
)

// MemoryRate is the live rate of the memory runs' mock: well above what one
// client core takes, so the stream never waits for the clock.
const MemoryRate = 5e6

// HeapSample is one look at the heap during a memory run.
type HeapSample struct {
	At        time.Duration
	Events    int64
	HeapInuse uint64
	HeapAlloc uint64
	NumGC     uint32
}

// MemoryReport is the outcome of the memory checks.
type MemoryReport struct {
	// Flat is the long run: the SDK (owned events) over MemoryEvents live events.
	Flat     []HeapSample
	FlatTook time.Duration
	// DedupeBytes is the heap the duplicate window takes at its default capacity.
	DedupeBytes    uint64
	DedupeCapacity int
	// Slow is a run whose handler sleeps on every event; its samples follow
	// a forced GC (HeapAlloc is the live heap).
	Slow      []HeapSample
	SlowDelay time.Duration
}

// RunMemory starts a live-rate mock in a child process and runs the memory
// checks: heap over a long run, the dedupe window's size, a slow handler.
func RunMemory(ctx context.Context, cfg Config) (*MemoryReport, error) {
	cfg.defaults()
	rep := &MemoryReport{DedupeCapacity: dedupe.DefaultCapacity}
	rep.DedupeBytes = dedupeBytes()
	fmt.Fprintf(cfg.Progress, "dedupe window at %d entries: %.2f MiB\n", rep.DedupeCapacity, float64(rep.DedupeBytes)/(1<<20))

	m, err := StartMock(ctx, MockSpec{Rate: MemoryRate, Seed: cfg.Seed}, cfg.ChildArgs...)
	if err != nil {
		return rep, err
	}
	defer m.Close()

	fmt.Fprintf(cfg.Progress, "memory: %d live events through Client.Run ...\n", cfg.MemoryEvents)
	t0 := time.Now()
	rep.Flat, err = HeapRun(ctx, m, cfg.MemoryEvents, 0, 0, 500*time.Millisecond, false)
	rep.FlatTook = time.Since(t0)
	if err != nil {
		return rep, fmt.Errorf("benchrun: memory run: %w", err)
	}
	for _, s := range rep.Flat {
		fmt.Fprintf(cfg.Progress, "  %6.1fs %10d events  HeapInuse %6.2f MiB  GCs %d\n", s.At.Seconds(), s.Events, mib(s.HeapInuse), s.NumGC)
	}

	rep.SlowDelay = 100 * time.Microsecond
	fmt.Fprintf(cfg.Progress, "memory: a handler sleeping %v per event, for %v ...\n", rep.SlowDelay, cfg.SlowFor)
	rep.Slow, err = HeapRun(ctx, m, 0, rep.SlowDelay, cfg.SlowFor, 500*time.Millisecond, true)
	if err != nil {
		return rep, fmt.Errorf("benchrun: slow-handler run: %w", err)
	}
	for _, s := range rep.Slow {
		fmt.Fprintf(cfg.Progress, "  %6.1fs %10d events  live heap %6.2f MiB  HeapInuse %6.2f MiB\n", s.At.Seconds(), s.Events, mib(s.HeapAlloc), mib(s.HeapInuse))
	}
	return rep, nil
}

// HeapRun runs the SDK (owned events, live start) against the live mock
// until n events (n > 0) or for d, sleeping delay in the handler, and
// samples the heap every period; with forceGC, each sample follows a
// runtime.GC, so HeapAlloc is the live heap (for slow runs, where garbage
// would otherwise pile up between GCs and look like growth).
func HeapRun(ctx context.Context, m *Mock, n int64, delay, d, period time.Duration, forceGC bool) ([]HeapSample, error) {
	c, err := firehose.New(firehose.WithEndpoint(m.URL), firehose.WithAPIKey(m.Key))
	if err != nil {
		return nil, err
	}
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	var events atomic.Int64
	var mu sync.Mutex
	var samples []HeapSample
	start := time.Now()
	// sample runs on the ticker's goroutine, and once on the handler's for
	// the last event (the stream still open: its memory still counts).
	sample := func() {
		var ms runtime.MemStats
		if forceGC {
			runtime.GC()
		}
		runtime.ReadMemStats(&ms)
		mu.Lock()
		samples = append(samples, HeapSample{At: time.Since(start), Events: events.Load(), HeapInuse: ms.HeapInuse, HeapAlloc: ms.HeapAlloc, NumGC: ms.NumGC})
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	err = c.Run(ctx, func(_ context.Context, ev *firehose.Event) error {
		if delay > 0 {
			time.Sleep(delay)
		}
		if k := events.Add(1); n > 0 && k >= n {
			sample()
			return errDone
		}
		return nil
	})
	close(stop)
	wg.Wait()
	// Keep only the samples taken while the stream was open: up to the last
	// event, or before the deadline.
	for i, s := range samples {
		if (n > 0 && s.Events >= n) || (d > 0 && s.At >= d-period/2) {
			if n > 0 {
				i++
			}
			samples = samples[:i]
			break
		}
	}
	switch {
	case errors.Is(err, errDone):
		err = nil
	case d > 0 && errors.Is(err, context.DeadlineExceeded):
		err = nil
	}
	return samples, err
}

// dedupeBytes measures the heap a default-size duplicate window takes.
func dedupeBytes() uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	w := dedupe.New(dedupe.DefaultCapacity)
	runtime.ReadMemStats(&b)
	runtime.KeepAlive(w)
	return b.HeapAlloc - a.HeapAlloc
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// HeapRange returns the lowest and highest HeapInuse among samples taken
// after skip events (the warm-up), and the last one.
func HeapRange(ss []HeapSample, skip int64) (lo, hi, last uint64) {
	lo = ^uint64(0)
	for _, s := range ss {
		if s.Events < skip {
			continue
		}
		lo, hi, last = min(lo, s.HeapInuse), max(hi, s.HeapInuse), s.HeapInuse
	}
	if hi == 0 {
		lo = 0
	}
	return lo, hi, last
}
