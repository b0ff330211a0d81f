package firehose_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// Hostile servers and bad luck, against the engine through the seam (a
// scripted ResumeTimestamp source stands for Cisco's channels, whose
// resume logic it shares) and against the real channels.

// gapLog collects the gaps a client reports through its error hook.
type gapLog struct {
	mu   sync.Mutex
	gaps []*firehose.GapError
}

func (g *gapLog) hook() firehose.Option {
	return firehose.WithErrorHook(func(err error) {
		var ge *firehose.GapError
		if errors.As(err, &ge) {
			g.mu.Lock()
			g.gaps = append(g.gaps, ge)
			g.mu.Unlock()
		}
	})
}

func (g *gapLog) of(r firehose.GapReason) []*firehose.GapError {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*firehose.GapError
	for _, e := range g.gaps {
		if e.Reason == r {
			out = append(out, e)
		}
	}
	return out
}

// 1. An event dated in the future must not carry the resume point with it.
func TestFutureTimestampDoesNotPoisonTheResumePoint(t *testing.T) {
	now := time.Now().UnixMilli()
	year2100 := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	path := filepath.Join(t.TempDir(), "cp.json")
	src := &scriptSource{attempts: []attempt{
		{steps: []step{ev("past", now-1000), ev("from-2100", year2100)}},
		{steps: []step{ev("next", now)}},
	}}
	var gaps gapLog
	c := newSourceClient(t, src, firehose.ResumeTimestamp, gaps.hook(), firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)))
	ids, err := drain(t, c)
	if !errors.Is(err, firehose.ErrFatal) || strings.Join(ids, ",") != "past,from-2100,next" {
		t.Fatalf("delivered %v, end %v", ids, err)
	}
	limit := time.Now().Add(firehose.DefaultClockSkew).UnixMilli()
	if from := src.reqs[1].From; from > limit-firehose.DefaultReplayMargin.Milliseconds() || from < now-1000-firehose.DefaultReplayMargin.Milliseconds() {
		t.Fatalf("the reconnect asked from %d: past the clock (now %d)", from, now)
	}
	if g := gaps.of(firehose.GapFuture); len(g) != 1 || !strings.Contains(g[0].Detail, "from-2100") {
		t.Fatalf("future gaps %+v: want one naming the event", g)
	}
	cp, err := firehose.NewFileCheckpointer(path).Load(context.Background())
	if err != nil || cp.Ranges[0].Watermark > limit {
		t.Fatalf("checkpoint %+v %v: saved a future watermark", cp, err)
	}
}

// 1b. A checkpoint saved with a future watermark (by an older release) is
// clamped on load, and reported.
func TestFutureCheckpointIsClamped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.json")
	future := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	if err := firehose.NewFileCheckpointer(path).Save(context.Background(), &firehose.Checkpoint{Ranges: []firehose.RangeCheckpoint{{Range: firehose.AllPartitions, Watermark: future}}}); err != nil {
		t.Fatal(err)
	}
	src := &scriptSource{attempts: []attempt{{steps: []step{ev("a", time.Now().UnixMilli())}}}}
	var gaps gapLog
	c := newSourceClient(t, src, firehose.ResumeTimestamp, gaps.hook(), firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)))
	drain(t, c)
	if from := src.reqs[0].From; from > time.Now().UnixMilli() {
		t.Fatalf("resumed from %d, in the future", from)
	}
	if len(gaps.of(firehose.GapFuture)) != 1 {
		t.Fatal("the clamp was not reported")
	}
}

// 1c. A live start whose server Date lies in 2100 does not resume from
// there when the connection drops before its first event.
func TestFutureServerDateIgnoredOnALiveStart(t *testing.T) {
	var mu sync.Mutex
	var froms []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		froms = append(froms, r.URL.Query().Get("fromTimestamp"))
		n := len(froms)
		mu.Unlock()
		if n > 1 {
			http.Error(w, "enough", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Date", "Fri, 01 Jan 2100 00:00:00 GMT")
		w.WriteHeader(http.StatusOK) // then ends before any event
	}))
	defer srv.Close()
	c, err := firehose.New(append(fast(), firehose.WithEndpoint(srv.URL), firehose.WithAPIKey("k3y-k3y"))...)
	if err != nil {
		t.Fatal(err)
	}
	c.Run(context.Background(), func(context.Context, *firehose.Event) error { return nil })
	mu.Lock()
	defer mu.Unlock()
	if len(froms) != 2 || froms[0] != "" {
		t.Fatalf("requests %q", froms)
	}
	from, _ := strconv.ParseInt(froms[1], 10, 64)
	if from <= 0 || from > time.Now().UnixMilli() {
		t.Fatalf("the reconnect asked from %q: want the local clock minus the margin, not 2100", froms[1])
	}
}

// 3. A crash right after a quiet live start: the checkpoint records where the
// live start began, and a restart resumes from there, not from live.
func TestQuietLiveStartIsCheckpointed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cp.json")
		src := &scriptSource{attempts: []attempt{{steps: []step{{block: true, alive: time.Second}}}}}
		c := newSourceClient(t, src, firehose.ResumeTimestamp, firehose.WithIdleTimeout(time.Hour),
			firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)))
		connectedAt := time.Now()
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Next(ctx) // silent for 5 s: the timer saves while the stream waits
		// As after a kill -9: read the file the running process left.
		cp, err := firehose.NewFileCheckpointer(path).Load(context.Background())
		if err != nil || cp == nil {
			t.Fatalf("no checkpoint after 5 s of a quiet live start: %v", err)
		}
		if wm := cp.Ranges[0].Watermark; wm != connectedAt.UnixMilli() {
			t.Fatalf("checkpoint watermark %d, want the live start %d (resume = it minus the margin)", wm, connectedAt.UnixMilli())
		}
	})
}

// 16. A stream that is silent, or waiting out a backoff, still saves what it
// finished about every interval.
func TestCheckpointWhileSilentAndWhileBackingOff(t *testing.T) {
	unavailable := &firehose.StatusError{Transport: "script", Code: 503}
	for name, after := range map[string][]attempt{
		"silent":      {{steps: []step{{block: true}}}},
		"backing off": {{err: unavailable}, {err: unavailable}, {err: unavailable}},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "cp.json")
				t0 := time.Now().UnixMilli()
				first := attempt{steps: []step{ev("a", t0)}}
				if name == "silent" {
					first.steps = append(first.steps, step{block: true})
				}
				src := &scriptSource{attempts: append([]attempt{first}, after...)}
				c := newSourceClient(t, src, firehose.ResumeTimestamp, firehose.WithIdleTimeout(time.Hour),
					firehose.WithBackoff(20*time.Second, 20*time.Second),
					firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)))
				s, err := c.Open(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if e, err := s.Next(context.Background()); err != nil || e.ID() != "a" {
					t.Fatal(e, err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				s.Next(ctx) // a finished, then 3 s without an event
				cancel()
				cp, err := firehose.NewFileCheckpointer(path).Load(context.Background())
				if err != nil || cp == nil || cp.Ranges[0].Watermark != t0 {
					t.Fatalf("after 3 s: checkpoint %+v %v, want a's watermark saved", cp, err)
				}
			})
		})
	}
}

// 4. A failed final save reaches the caller however the run ends.
func TestFinalSaveErrorReachesTheCaller(t *testing.T) {
	src := func() *scriptSource {
		return &scriptSource{attempts: []attempt{{steps: []step{ev("a", time.Now().UnixMilli()), {block: true}}}}}
	}
	store := failingStore{err: errors.New("disk full")}
	for name, run := range map[string]func(*firehose.Client) error{
		"deadline": func(c *firehose.Client) error {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			return c.Run(ctx, func(context.Context, *firehose.Event) error { return nil })
		},
		"cancel": func(c *firehose.Client) error {
			ctx, cancel := context.WithCancel(context.Background())
			return c.Run(ctx, func(context.Context, *firehose.Event) error { cancel(); return nil })
		},
		"handler error": func(c *firehose.Client) error {
			return c.Run(context.Background(), func(context.Context, *firehose.Event) error { return errors.New("handler failed") })
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := newSourceClient(t, src(), firehose.ResumeTimestamp, firehose.WithIdleTimeout(time.Hour), firehose.WithCheckpointer(store))
			if err := run(c); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Fatalf("Run returned %v: the failed save is lost", err)
			}
		})
	}
}

type failingStore struct{ err error }

func (f failingStore) Load(context.Context) (*firehose.Checkpoint, error) { return nil, nil }
func (f failingStore) Save(context.Context, *firehose.Checkpoint) error   { return f.err }

// 5. The replay margin never reaches before the configured start, and events
// older than the start are not delivered.
func TestReplayNeverReachesBeforeTheStart(t *testing.T) {
	start := time.Now().Add(-time.Minute).UnixMilli()
	src := &scriptSource{attempts: []attempt{
		{steps: []step{ev("a", start), ev("b", start+1000)}},
		{steps: []step{ev("early", start-500), ev("b", start+1000), ev("c", start+2000)}},
	}}
	c := newSourceClient(t, src, firehose.ResumeTimestamp, firehose.WithStartMillis(start))
	ids, _ := drain(t, c)
	if strings.Join(ids, ",") != "a,b,c" {
		t.Fatalf("delivered %v", ids)
	}
	if src.reqs[0].From != start || src.reqs[1].From != start {
		t.Fatalf("asked from %d then %d, want the start %d both times", src.reqs[0].From, src.reqs[1].From, start)
	}
	if st := c.Stats(); st.BeforeStart != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// 7. A server that ends every connection after one new event gets a
// connection per backoff step, not one per round trip.
func TestReconnectFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now().UnixMilli()
		var attempts []attempt
		for i := range 1000 {
			attempts = append(attempts, attempt{steps: []step{ev(fmt.Sprint(i), now+int64(i))}})
		}
		src := &scriptSource{attempts: attempts}
		c, err := firehose.New(firehose.WithSource(firehose.SourceSpec{Name: "script", Resume: firehose.ResumeTimestamp,
			New: func(firehose.SourceConfig) (firehose.Source, error) { return src, nil }}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Run(ctx, func(context.Context, *firehose.Event) error { return nil })
		// Default backoff: 250 ms between attempts at least, growing, capped
		// at 1 s after progress: at most 40 attempts in 10 s.
		if n := len(src.reqs); n > 41 || n < 5 {
			t.Fatalf("%d connections in 10 s", n)
		}
	})
}

// 10. A replay answered only by keep-alives is reported.
func TestReplayAnsweredOnlyByKeepAlives(t *testing.T) {
	now := time.Now().UnixMilli()
	ka := step{frame: firehose.Frame{Kind: firehose.FrameLiveness}}
	src := &scriptSource{attempts: []attempt{
		{steps: []step{ev("a", now-2000)}},
		{steps: []step{ka, ka, ka, ev("b", now)}},
	}}
	var gaps gapLog
	c := newSourceClient(t, src, firehose.ResumeTimestamp, gaps.hook())
	drain(t, c)
	if g := gaps.of(firehose.GapLateReplay); len(g) != 1 || !strings.Contains(g[0].Error(), "keep-alives") {
		t.Fatalf("gaps %+v", g)
	}
}

// 2. A frame the transport cannot skip (gRPC's receive cap) is resumed past
// once, then ends the stream with a fatal error: never an endless loop.
func TestHardCapNeverLoops(t *testing.T) {
	now := time.Now().UnixMilli()
	capped := fmt.Errorf("grpc: too big: %w", firehose.ErrHardCap)
	src := &scriptSource{attempts: []attempt{
		{steps: []step{ev("a", now), {err: capped}}},
		{steps: []step{ev("a", now), {err: capped}}},
		{steps: []step{ev("a", now), {err: capped}}},
		{steps: []step{ev("a", now), {err: capped}}},
	}}
	var gaps gapLog
	c := newSourceClient(t, src, firehose.ResumeTimestamp, gaps.hook())
	_, err := drain(t, c)
	if !errors.Is(err, firehose.ErrFatal) || !errors.Is(err, firehose.ErrHardCap) {
		t.Fatalf("end %v", err)
	}
	// The first connection made progress; the second and third end on the
	// capped frame; the fourth resumes without the margin, and ends on it again.
	if len(src.reqs) != 4 || len(gaps.of(firehose.GapSkipped)) != 1 || src.reqs[3].From != now {
		t.Fatalf("%d attempts (%+v), gaps %+v", len(src.reqs), src.reqs, gaps.gaps)
	}
}

// 6. A server that echoes the key in its refusal never gets it printed.
func TestEchoedKeyIsRedacted(t *testing.T) {
	const key = "ECHOED-k3y-0123456789"
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			srv := firehosetest.NewServer(firehosetest.WithScript(
				firehosetest.Conn{Status: 503, Message: "overloaded, key " + key},
				firehosetest.Conn{Status: 401, Message: "invalid key: " + key}))
			defer srv.Close()
			var logs bytes.Buffer
			var hooked []string
			c, err := firehose.New(append(fast(), firehose.WithEndpoint(srv.URL), firehose.WithAPIKey(key), firehose.WithTransport(tr),
				firehose.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
				firehose.WithErrorHook(func(err error) { hooked = append(hooked, err.Error()) }))...)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Run(context.Background(), func(context.Context, *firehose.Event) error { return nil })
			var se *firehose.StatusError
			if !errors.As(err, &se) || se.Code != 401 {
				t.Fatalf("end %v", err)
			}
			for what, text := range map[string]string{"error": err.Error(), "message": se.Message, "stats": c.Stats().LastError,
				"logs": logs.String(), "hooks": strings.Join(hooked, "\n"), "fmt": fmt.Sprintf("%v %+v", c, se)} {
				if strings.Contains(text, key) {
					t.Errorf("the key is in %s: %s", what, text)
				}
			}
		})
	}
}

// A stream that cannot connect says why when it stops, without a logger.
func TestNotConnectedSaysWhy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			c, err := firehose.New(append(fast(), firehose.WithEndpoint("http://"+addr), firehose.WithAPIKey("k3y-k3y"), firehose.WithTransport(tr))...)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err = c.Open(ctx)
			var ce *firehose.ConnectError
			if !errors.As(err, &ce) || ce.Attempts < 1 || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("Open: %v", err)
			}
			c2, _ := firehose.New(append(fast(), firehose.WithEndpoint("http://"+addr), firehose.WithAPIKey("k3y-k3y"), firehose.WithTransport(tr), firehose.WithRetryLimit(3))...)
			err = c2.Run(context.Background(), func(context.Context, *firehose.Event) error { return nil })
			if !errors.As(err, &ce) || ce.Attempts != 3 || !errors.Is(err, firehose.ErrRetryLimit) {
				t.Fatalf("Run with a retry limit: %v", err)
			}
		})
	}
}

// An https:// endpoint that answers in plain HTTP is fatal at once, with a hint.
func TestPlainServerBehindHTTPSIsFatal(t *testing.T) {
	srv := firehosetest.NewServer()
	defer srv.Close()
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			c, err := firehose.New(append(fast(), firehose.WithEndpoint(strings.Replace(srv.URL, "http://", "https://", 1)), firehose.WithAPIKey("k3y-k3y"), firehose.WithTransport(tr))...)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = c.Open(ctx)
			if !errors.Is(err, firehose.ErrFatal) || !strings.Contains(err.Error(), "http://") {
				t.Fatalf("Open: %v", err)
			}
		})
	}
}

func TestClientStringShowsTheShape(t *testing.T) {
	c, err := firehose.New(firehose.WithAPIKey("s3cret-k3y"), firehose.WithRegion(firehose.RegionEurope), firehose.WithReceiver(1, 3),
		firehose.WithTransport(firehose.TransportGRPC), firehose.WithIdleTimeout(time.Minute), firehose.WithRetryLimit(5))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, want := range []string{"partners.ciscospaces.eu", "grpc", "5-8", "idle: 1m0s", "retryLimit: 5", "REDACTED"} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %q", s, want)
		}
	}
	if strings.Contains(s, "s3cret") || strings.Contains(fmt.Sprintf("%+v %#v", c, c), "s3cret") {
		t.Fatalf("key printed: %s", s)
	}
}

// CheckpointSoon saves at once a stream that waits, whatever the interval.
func TestCheckpointSoon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cp.json")
		t0 := time.Now().UnixMilli()
		src := &scriptSource{attempts: []attempt{{steps: []step{ev("a", t0), {block: true}}}}}
		c := newSourceClient(t, src, firehose.ResumeTimestamp, firehose.WithIdleTimeout(time.Hour),
			firehose.WithCheckpointInterval(time.Hour), firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)))
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Next(ctx); close(done) }() // a finished; the stream waits
		synctest.Wait()
		if cp, _ := firehose.NewFileCheckpointer(path).Load(context.Background()); cp != nil && cp.Ranges[0].Watermark == t0 {
			t.Fatal("saved before it was asked (the interval is an hour)")
		}
		c.CheckpointSoon()
		synctest.Wait()
		cp, err := firehose.NewFileCheckpointer(path).Load(context.Background())
		if err != nil || cp == nil || cp.Ranges[0].Watermark != t0 {
			t.Fatalf("after CheckpointSoon: %+v %v", cp, err)
		}
		cancel()
		<-done
	})
}
