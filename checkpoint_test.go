package firehose_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

func TestFileCheckpointRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.json")
	store := firehose.NewFileCheckpointer(path)
	ctx := context.Background()
	if cp, err := store.Load(ctx); cp != nil || err != nil {
		t.Fatalf("empty Load = %v, %v", cp, err)
	}
	want := &firehose.Checkpoint{Ranges: []firehose.RangeCheckpoint{
		{Range: firehose.Range{Min: 1, Max: 6}, Watermark: 1700000000123, Seen: []firehose.SeenEvent{{Fingerprint: 1, Timestamp: 1700000000000}, {Fingerprint: 1<<64 - 1, Timestamp: -5}}},
		{Range: firehose.Range{Min: 7, Max: 12}, Watermark: 5},
	}}
	if err := store.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Ranges) != 2 || got.Ranges[0].Watermark != want.Ranges[0].Watermark || len(got.Ranges[0].Seen) != 2 ||
		got.Ranges[0].Seen[1] != want.Ranges[0].Seen[1] || got.Ranges[1].Range != want.Ranges[1].Range {
		t.Fatalf("round trip: %+v", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestCorruptCheckpointIsAnError(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := firehose.NewFileCheckpointer(good).Save(context.Background(), &firehose.Checkpoint{Ranges: []firehose.RangeCheckpoint{{Range: firehose.AllPartitions, Watermark: 42}}}); err != nil {
		t.Fatal(err)
	}
	valid, _ := os.ReadFile(good)
	flipped := strings.Replace(string(valid), `"watermark":42`, `"watermark":43`, 1)
	cases := map[string]string{
		"empty":     "",
		"truncated": string(valid[:len(valid)/2]),
		"garbage":   "\x00\x01not json",
		"foreign":   `{"format":"something-else","version":1,"ranges":[],"crc32c":0}`,
		"future":    strings.Replace(string(valid), `"version":1`, `"version":9`, 1),
		"bit flip":  flipped,
	}
	srv := firehosetest.NewServer()
	defer srv.Close()
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			c := newClient(t, srv, firehose.TransportHTTP, firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)))
			s, err := c.Open(context.Background())
			if err == nil {
				s.Close()
				t.Fatal("Open started despite a bad checkpoint")
			}
			if !errors.Is(err, firehose.ErrCheckpoint) || !errors.Is(err, firehose.ErrFatal) {
				t.Fatalf("err = %v, want ErrCheckpoint and ErrFatal", err)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d connections made with a bad checkpoint", n)
	}
}

func TestUnwritableCheckpointDirFailsAtOpen(t *testing.T) {
	dir := t.TempDir()
	var path string
	if os.Geteuid() == 0 {
		// root writes through permission bits: use a path under a file.
		f := filepath.Join(dir, "file")
		os.WriteFile(f, nil, 0o600)
		path = filepath.Join(f, "cp.json")
	} else {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		path = filepath.Join(ro, "cp.json")
	}
	srv := firehosetest.NewServer()
	defer srv.Close()
	c := newClient(t, srv, firehose.TransportHTTP, firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)))
	if s, err := c.Open(context.Background()); err == nil || !errors.Is(err, firehose.ErrCheckpoint) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open with an unwritable checkpoint directory: %v", err)
	}
}

// runUntil runs c until stop returns true for the count of events handled,
// recording every event; it returns what it saw.
func runUntil(t *testing.T, c *firehose.Client, seen map[key]int, mu *sync.Mutex, stop func(n int) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := 0
	err := c.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
		mu.Lock()
		seen[key{ev.ID(), ev.Timestamp()}]++
		n++
		done := stop(n)
		mu.Unlock()
		if done {
			cancel()
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestGracefulRestartIsExactlyOnce: stop, restart from the checkpoint: every
// event once across both runs, none repeated.
func TestGracefulRestartIsExactlyOnce(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(1000, time.Minute))
	defer srv.Close()
	want := srv.Log().Events(1, 12)
	path := filepath.Join(t.TempDir(), "cp.json")
	opts := []firehose.Option{firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)), firehose.WithStart(want[0].Emit.Add(-time.Minute))}
	seen := map[key]int{}
	var mu sync.Mutex
	for _, stopAt := range []int{1, 137, 400} {
		runUntil(t, newClient(t, srv, firehose.TransportHTTP, opts...), seen, &mu, func(n int) bool { return n == stopAt })
	}
	runUntil(t, newClient(t, srv, firehose.TransportHTTP, opts...), seen, &mu, func(int) bool { return len(seen) >= len(want) })
	for _, e := range want {
		if c := seen[key{e.UID, e.Timestamp}]; c != 1 {
			t.Fatalf("event %s delivered %d times across restarts", e.UID, c)
		}
	}
}

// TestReceiversChangeCount: a group of 3 stops; a group of 4 resumes from
// the same file, each new range seeded from the old ranges it overlaps.
// Nothing is missing.
func TestReceiversChangeCount(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(1200, time.Minute))
	defer srv.Close()
	want := srv.Log().Events(1, 12)
	path := filepath.Join(t.TempDir(), "cp.json")
	base := []firehose.Option{firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)), firehose.WithStart(want[0].Emit.Add(-time.Minute))}
	seen := map[key]int{}
	var mu sync.Mutex
	// Stop once every receiver of the three has delivered some events.
	part := map[key]int{}
	for _, e := range want {
		part[key{e.UID, e.Timestamp}] = e.Partition
	}
	plan3, _ := firehose.Plan(3)
	runUntil(t, newClient(t, srv, firehose.TransportHTTP, append(base, firehose.WithReceivers(3))...), seen, &mu, func(int) bool {
		per := make([]int, 3)
		for k := range seen {
			for i, r := range plan3 {
				if r.Contains(part[k]) {
					per[i]++
				}
			}
		}
		return per[0] >= 30 && per[1] >= 30 && per[2] >= 30
	})
	cp, err := firehose.NewFileCheckpointer(path).Load(context.Background())
	if err != nil || cp == nil || len(cp.Ranges) != 3 {
		t.Fatalf("checkpoint after 3 receivers: %+v %v", cp, err)
	}
	runUntil(t, newClient(t, srv, firehose.TransportHTTP, append(base, firehose.WithReceivers(4))...), seen, &mu, func(int) bool { return len(seen) >= len(want) })
	for _, e := range want {
		if seen[key{e.UID, e.Timestamp}] == 0 {
			t.Fatalf("event %s lost across the change of receivers", e.UID)
		}
	}
	cp, _ = firehose.NewFileCheckpointer(path).Load(context.Background())
	if len(cp.Ranges) != 4 {
		t.Fatalf("checkpoint after 4 receivers has %d ranges", len(cp.Ranges))
	}
}

// TestGroupReturnsTheReceiverOfAFatalError.
func TestGroupFatalNamesReceiver(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithScript(firehosetest.Conn{Status: 403}))
	defer srv.Close()
	c := newClient(t, srv, firehose.TransportHTTP, firehose.WithReceivers(2))
	err := c.Run(context.Background(), func(context.Context, *firehose.Event) error { return nil })
	var re *firehose.ReceiverError
	if !errors.As(err, &re) || !errors.Is(err, firehose.ErrFatal) {
		t.Fatalf("err = %v", err)
	}
}
