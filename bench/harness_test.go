package bench

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/firehose-go/firehose/internal/benchrun"
)

// TestHarness runs every row once over a small history: the child process
// starts and stops, each client reads the whole log, and the checks pass.
// The Node peers' rows (bench/peers) run too where node and their
// node_modules are installed (npm ci --prefix bench/peers), and are skipped
// with the reason elsewhere (CI does not install them).
func TestHarness(t *testing.T) {
	ctx := context.Background()
	m, err := benchrun.StartMock(ctx, benchrun.MockSpec{History: 2000, Span: 10 * time.Second, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Expect.Events != 2000 || m.Expect.UIDs >= m.Expect.Events || m.Expect.From <= 0 {
		t.Fatalf("expected digest looks wrong: %+v", m.Expect)
	}
	transports := []string{benchrun.HTTP, benchrun.WS, benchrun.WSUnbatched, benchrun.GRPC}
	for _, r := range append(benchrun.Runners(transports, nil, ""), benchrun.PeerRunners(transports, peersDir(t))...) {
		t.Run(r.Transport+"_"+r.Client, func(t *testing.T) {
			if err := r.Probe(ctx, m, 100); err != nil {
				if r.Transport == benchrun.HTTP {
					t.Fatal(err)
				}
				t.Skip(err)
			}
			s, err := r.Measure(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			if s.Events != m.Expect.Events || s.Wall <= 0 {
				t.Fatalf("sample %+v", s)
			}
		})
	}
	m.Close()
	if !m.Exited() {
		t.Fatal("the mock's process is still running after Close")
	}
}

// peersDir is the repository's bench/peers, as an absolute path so that a
// skip's advice (npm ci --prefix DIR) works from anywhere.
func peersDir(tb testing.TB) string {
	dir, err := filepath.Abs("peers")
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}
