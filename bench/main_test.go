package bench

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/firehose-go/firehose/internal/benchrun"
)

func TestMain(m *testing.M) {
	// The harness re-executes this test binary as the mock's process.
	benchrun.ServeChildIfRequested()
	code := m.Run()
	shared.close()
	os.Exit(code)
}

// shared is the big-history mock of the benchmarks, started on first use
// and stopped by TestMain.
var shared sharedMockState

type sharedMockState struct {
	once sync.Once
	mu   sync.Mutex
	m    *benchrun.Mock
	err  error
}

func (s *sharedMockState) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m != nil {
		s.m.Close()
	}
}

func sharedMock(tb testing.TB) *benchrun.Mock {
	shared.once.Do(func() {
		n := envInt("FIREHOSE_BENCH_EVENTS", benchrun.DefaultEvents)
		m, err := benchrun.StartMock(context.Background(), benchrun.MockSpec{History: int(n), Span: benchrun.DefaultSpan, Seed: benchrun.DefaultSeed, Prefix: benchrun.DefaultShortEvents})
		shared.mu.Lock()
		shared.m, shared.err = m, err
		shared.mu.Unlock()
	})
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.m
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}
