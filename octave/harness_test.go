package octave_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/octave"
	"github.com/firehose-go/firehose/octave/octavetest"
)

// The engine-level tests drive firehose.New(octave.Source(…)) against octavetest, with short
// injected durations: heartbeats every 20 ms, an idle timeout of 1 s, backoff from 5 ms.

const (
	testHeartbeat = 20 * time.Millisecond
	testIdle      = time.Second
)

// harness runs one consumer and records what it delivered.
type harness struct {
	t       *testing.T
	srv     *octavetest.Server
	streams *octave.Streams

	log *lockedBuffer // the engine's and the source's log, printed if the test fails

	mu     sync.Mutex
	client *firehose.Client // of the last run
	got    []delivered
	counts map[string]int
	errs   []error // from the error hook
}

type delivered struct {
	id   string
	ts   int64
	typ  string
	json string
}

func newHarness(t *testing.T, srvOpts []octavetest.Option, streams ...string) *harness {
	t.Helper()
	srv := octavetest.NewServer(srvOpts...)
	t.Cleanup(srv.Close)
	st, err := octave.NewStreams(streams...)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, streams: st, counts: map[string]int{}, log: new(lockedBuffer)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", h.log.String())
		}
	})
	return h
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// config is the test configuration: the mock's URL and credentials, gap-fill on, small pages.
func (h *harness) config() octave.Config {
	return octave.Config{
		Company:        octavetest.DefaultCompany,
		User:           octavetest.DefaultUser,
		Token:          octavetest.DefaultToken,
		Streams:        h.streams,
		Endpoint:       h.srv.URL,
		REST:           h.srv.URL,
		GapFill:        true,
		PageSize:       7,
		Heartbeat:      testHeartbeat,
		AckTimeout:     2 * time.Second,
		Probe:          150 * time.Millisecond,
		SubscribeRetry: 10 * time.Millisecond,
		RESTTimeout:    2 * time.Second,
	}
}

// options are the engine options of every test, then extra.
func (h *harness) options(cfg octave.Config, extra ...firehose.Option) []firehose.Option {
	return append([]firehose.Option{
		octave.Source(cfg),
		firehose.WithIdleTimeout(testIdle),
		firehose.WithBackoff(5*time.Millisecond, 50*time.Millisecond),
		firehose.WithLogger(slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		firehose.WithErrorHook(func(err error) {
			h.mu.Lock()
			h.errs = append(h.errs, err)
			h.mu.Unlock()
		}),
	}, extra...)
}

// stats returns the Stats of the last run's client.
func (h *harness) stats() firehose.Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.client.Stats()
}

// run consumes with cfg until the returned stop is called (it returns Run's error, nil for a
// stop) or Run ends by itself (done is closed).
func (h *harness) run(cfg octave.Config, extra ...firehose.Option) (stop func() error, done <-chan struct{}) {
	h.t.Helper()
	c, err := firehose.New(h.options(cfg, extra...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	h.client = c
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan struct{})
	var runErr error
	go func() {
		defer close(ch)
		runErr = c.Run(ctx, func(_ context.Context, ev *firehose.Event) error {
			h.record(ev)
			return nil
		})
	}()
	var once sync.Once
	stop = func() error {
		once.Do(func() {
			cancel()
			<-ch
			if errors.Is(runErr, context.Canceled) {
				runErr = nil
			}
		})
		return runErr
	}
	h.t.Cleanup(func() { stop() })
	return stop, ch
}

func (h *harness) record(ev *firehose.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := delivered{id: ev.ID(), ts: ev.Timestamp(), typ: eventType(ev), json: string(ev.JSON())}
	h.got = append(h.got, d)
	h.counts[d.id]++
}

// delivered returns a copy of what was delivered so far.
func (h *harness) delivered() []delivered {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

func (h *harness) hookErrors() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.errs)
}

// waitDelivered waits until every event of evs was delivered.
func (h *harness) waitDelivered(evs []octavetest.Event) {
	h.t.Helper()
	eventually(h.t, 10*time.Second, "every event delivered", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, e := range evs {
			if h.counts[e.ID] == 0 {
				return false
			}
		}
		return true
	})
}

// checkOnce checks that every event of evs was delivered exactly once, with its stream as type
// (want maps a stream id to the name it was subscribed by), its creationDate as timestamp and its
// JSON as raw bytes; and that nothing was delivered twice at all.
func (h *harness) checkOnce(evs []octavetest.Event, want map[string]string) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	byID := map[string]delivered{}
	for _, d := range h.got {
		if h.counts[d.id] > 1 {
			h.t.Errorf("event %s delivered %d times", d.id, h.counts[d.id])
		}
		byID[d.id] = d
	}
	missing := 0
	for _, e := range evs {
		d, ok := byID[e.ID]
		if !ok {
			missing++
			continue
		}
		if d.ts != e.CreationDate || d.json != string(e.JSON()) || (want != nil && d.typ != want[e.StreamID]) {
			h.t.Errorf("event %s delivered as %+v; want ts %d, type %s, json %s", e.ID, d, e.CreationDate, want[e.StreamID], e.JSON())
		}
	}
	if missing > 0 {
		h.t.Errorf("%d of %d events never delivered", missing, len(evs))
	}
}

// publish publishes n events on stream.
func publish(t *testing.T, srv *octavetest.Server, stream string, n int) []octavetest.Event {
	t.Helper()
	elems := make([]any, n)
	for i := range elems {
		elems[i] = map[string]int{"i": i}
	}
	evs, err := srv.Publish(stream, elems...)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func eventually(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", wait, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// acked reports whether the server has acknowledged a subscribe of every stream named, on its
// latest session.
func acked(srv *octavetest.Server, sessions int, names ...string) bool {
	ss := srv.Sessions()
	if len(ss) < sessions {
		return false
	}
	last := ss[len(ss)-1].ID
	ok := map[string]bool{}
	for _, r := range srv.Requests() {
		if r.SessionID == last && r.Type == "subscribe" && r.OK {
			ok[r.StreamID] = true
			ok[r.Path] = true
		}
	}
	for _, n := range names {
		if !ok[n] {
			return false
		}
	}
	return true
}

func eventType(ev *firehose.Event) string { return string(ev.Type()) }

// gapErrors picks the gaps out of what the error hook saw.
func gapErrors(errs []error) []*firehose.GapError {
	var out []*firehose.GapError
	for _, err := range errs {
		var ge *firehose.GapError
		if errors.As(err, &ge) {
			out = append(out, ge)
		}
	}
	return out
}

// checkEvictionGap checks a gap is the eviction of stream's events from from on, delivery
// resuming at resumed.
func checkEvictionGap(t *testing.T, ge *firehose.GapError, stream string, from, resumed int64) {
	t.Helper()
	if ge.Reason != firehose.GapEvicted || ge.Stream != stream || ge.From != from || ge.ResumedAt != resumed || !errors.Is(ge, firehose.ErrGap) {
		t.Fatalf("gap %+v; want evicted, stream %s, from %d, resumed at %d", ge, stream, from, resumed)
	}
}
