package firehose_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/firehose-go/firehose"
)

// These tests plug a firehose of their own into the engine through the
// public seam only, as a package outside this one would.

// step is one thing a scripted connection does on Next.
type step struct {
	frame firehose.Frame
	err   error // returned instead of a frame
	block bool  // wait for the connection's ctx, calling Alive every alive
	alive time.Duration
}

func ev(id string, ts int64) step {
	raw := fmt.Sprintf(`{"id":%q,"ts":%d}`, id, ts)
	return step{frame: firehose.Frame{Kind: firehose.FrameEvent, ID: []byte(id), Timestamp: ts, Type: []byte("thing"), Raw: []byte(raw)}}
}

// scriptSource serves one script per connection attempt: a connect error, or
// the steps of a connection (ending with io.EOF when they run out).
type scriptSource struct {
	mu       sync.Mutex
	attempts []attempt
	reqs     []firehose.ConnectRequest
	closed   bool
	cursor   []byte // what LoadCursor got
	pos      int    // a ResumeSource position: the number of events handed out
}

type attempt struct {
	err   error
	steps []step
}

func (s *scriptSource) Connect(ctx context.Context, req firehose.ConnectRequest) (firehose.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, req)
	if len(s.attempts) == 0 {
		return nil, firehose.Fatal(errors.New("script over"))
	}
	a := s.attempts[0]
	s.attempts = s.attempts[1:]
	if a.err != nil {
		return nil, a.err
	}
	return &scriptConn{src: s, ctx: ctx, req: req, steps: a.steps}, nil
}

func (s *scriptSource) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

func (s *scriptSource) SaveCursor() []byte { return []byte(strconv.Itoa(s.pos)) }
func (s *scriptSource) LoadCursor(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty cursor")
	}
	s.cursor = append([]byte(nil), b...)
	return nil
}

type scriptConn struct {
	src   *scriptSource
	ctx   context.Context
	req   firehose.ConnectRequest
	steps []step
}

func (c *scriptConn) Next(f *firehose.Frame) error {
	if len(c.steps) == 0 {
		return io.EOF
	}
	st := c.steps[0]
	c.steps = c.steps[1:]
	switch {
	case st.block:
		var tick <-chan time.Time
		if st.alive > 0 {
			t := time.NewTicker(st.alive)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-c.ctx.Done():
				return context.Cause(c.ctx)
			case <-tick:
				c.req.Alive()
			}
		}
	case st.err != nil:
		return st.err
	}
	*f = st.frame
	if f.Kind == firehose.FrameEvent {
		c.src.pos++
	}
	return nil
}

func (c *scriptConn) Close() error { return nil }

func newSourceClient(t *testing.T, src *scriptSource, resume firehose.Resume, opts ...firehose.Option) *firehose.Client {
	t.Helper()
	spec := firehose.SourceSpec{
		Name:    "script",
		Resume:  resume,
		Secrets: []string{"s3cret-token"},
		New:     func(firehose.SourceConfig) (firehose.Source, error) { return src, nil },
	}
	all := append([]firehose.Option{firehose.WithSource(spec), firehose.WithBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := firehose.New(all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// drain reads until the stream ends, returning the ids delivered and the end.
func drain(t *testing.T, c *firehose.Client) ([]string, error) {
	t.Helper()
	var ids []string
	err := c.Run(context.Background(), func(_ context.Context, e *firehose.Event) error {
		ids = append(ids, e.ID())
		return nil
	})
	return ids, err
}

func TestSourceSeamDeliversEachEventOnce(t *testing.T) {
	src := &scriptSource{attempts: []attempt{
		{steps: []step{ev("a", 1), ev("b", 2), {frame: firehose.Frame{Kind: firehose.FrameLiveness}}, ev("c", 3)}},
		{err: errors.New("refused")},
		{steps: []step{ev("b", 2), ev("c", 3), {frame: firehose.Frame{Kind: firehose.FrameControl, Raw: []byte("ack")}}, ev("d", 4)}},
	}}
	var gaps []*firehose.GapError
	c := newSourceClient(t, src, firehose.ResumeNone, firehose.WithErrorHook(func(err error) {
		var ge *firehose.GapError
		if errors.As(err, &ge) {
			gaps = append(gaps, ge)
		}
	}))
	ids, err := drain(t, c)
	if !errors.Is(err, firehose.ErrFatal) || !strings.Contains(err.Error(), "script over") {
		t.Fatalf("end: %v", err)
	}
	if got := strings.Join(ids, ","); got != "a,b,c,d" {
		t.Fatalf("delivered %s, want a,b,c,d once each", got)
	}
	st := c.Stats()
	if st.KeepAlives != 1 || st.Duplicates != 2 || st.Failures != 1 || st.Events != 4 {
		t.Fatalf("stats %+v", st)
	}
	// A source without replay: the reconnect is a gap, typed, with its downtime.
	if len(gaps) != 1 || gaps[0].Reason != firehose.GapNoReplay || !errors.Is(gaps[0], firehose.ErrGap) || gaps[0].Downtime <= 0 {
		t.Fatalf("gaps %+v", gaps)
	}
	if st.Gaps != 1 || st.GapsBy[firehose.GapNoReplay] != 1 {
		t.Fatalf("gap stats %+v", st)
	}
	for i, r := range src.reqs {
		if r.From != 0 || r.Reconnect != (i > 0) {
			t.Fatalf("request %d: %+v (a ResumeNone source gets no resume point)", i, r)
		}
	}
	if !src.closed {
		t.Fatal("Source.Close not called")
	}
}

func TestSourceFrameErrorsAndGapsKeepTheConnection(t *testing.T) {
	src := &scriptSource{attempts: []attempt{{steps: []step{
		ev("a", 1),
		{err: &firehose.FrameError{Reason: firehose.DropMalformed, Size: 3, Err: errors.New("bad json")}},
		{err: &firehose.GapError{Reason: firehose.GapEvicted, Stream: "/co/s1", From: 5, Detail: "capacity"}},
		{frame: firehose.Frame{Kind: firehose.FrameEvent, Timestamp: 9, Raw: []byte("{}")}}, // no id: not an event
		ev("b", 2),
	}}}}
	var gapText string
	c := newSourceClient(t, src, firehose.ResumeSource, firehose.WithErrorHook(func(err error) {
		if errors.Is(err, firehose.ErrGap) {
			gapText = err.Error()
		}
	}))
	ids, err := drain(t, c)
	if !errors.Is(err, firehose.ErrFatal) {
		t.Fatal(err)
	}
	st := c.Stats()
	if strings.Join(ids, ",") != "a,b" || st.Malformed != 2 || st.GapsBy[firehose.GapEvicted] != 1 || st.Connects != 1 {
		t.Fatalf("ids %v stats %+v", ids, st)
	}
	if !strings.Contains(gapText, "/co/s1") || !strings.Contains(gapText, "evicted") {
		t.Fatalf("gap %q does not name the stream and the reason", gapText)
	}
}

// A source may allow itself one fresh attempt before a fatal answer (a login
// to redo): Retry makes a 401 retried once, and the second 401 ends the run.
func TestSourceRetryThenFatal(t *testing.T) {
	unauthorized := &firehose.StatusError{Transport: "script", Code: 401, Message: "bad token s3cret-token"}
	src := &scriptSource{attempts: []attempt{{err: firehose.Retry(unauthorized)}, {err: unauthorized}, {steps: []step{ev("never", 1)}}}}
	var logs bytes.Buffer
	var hooked []string
	c := newSourceClient(t, src, firehose.ResumeNone,
		firehose.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		firehose.WithErrorHook(func(err error) { hooked = append(hooked, err.Error()) }))
	_, err := drain(t, c)
	var se *firehose.StatusError
	if !errors.Is(err, firehose.ErrFatal) || !errors.As(err, &se) || se.Code != 401 {
		t.Fatalf("end: %v", err)
	}
	if len(src.reqs) != 2 {
		t.Fatalf("%d attempts, want exactly 2", len(src.reqs))
	}
	// The server echoed the secret: it appears nowhere.
	for what, text := range map[string]string{"error": err.Error(), "stats": c.Stats().LastError, "logs": logs.String(), "hooks": strings.Join(hooked, "\n")} {
		if strings.Contains(text, "s3cret-token") {
			t.Errorf("secret in %s: %s", what, text)
		}
	}
}

// Liveness is the source's call: pongs reported through Alive keep a silent
// connection open; once they stop, the idle timeout drops it.
func TestSourceAliveKeepsASilentConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &scriptSource{attempts: []attempt{
			{steps: []step{ev("a", 1), {block: true, alive: 10 * time.Second}}},
			{steps: []step{{block: true}}},
			{steps: []step{ev("b", 2)}},
		}}
		c := newSourceClient(t, src, firehose.ResumeNone, firehose.WithIdleTimeout(30*time.Second))
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		s, err := c.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if e, err := s.Next(ctx); err != nil || e.ID() != "a" {
			t.Fatal(e, err)
		}
		// The first connection pongs every 10 s forever: after 5 minutes of
		// silence it is still the only one.
		probe, cancelProbe := context.WithTimeout(ctx, 5*time.Minute)
		_, err = s.Next(probe)
		cancelProbe()
		if !errors.Is(err, context.DeadlineExceeded) || s.Stats().Connects != 1 {
			t.Fatalf("after 5 min of pongs: err %v, connects %d", err, s.Stats().Connects)
		}
		// The caller's deadline cut it (a later Next reconnects); the second
		// connection is silent without pongs: dropped at the idle timeout.
		t0 := time.Now()
		e, err := s.Next(ctx)
		if err != nil || e.ID() != "b" {
			t.Fatal(e, err)
		}
		if d := time.Since(t0); d < 30*time.Second || d > 45*time.Second {
			t.Fatalf("silent connection dropped after %v, want the 30 s idle timeout", d)
		}
		if st := s.Stats(); st.Reconnects[firehose.CauseIdle] != 1 {
			t.Fatalf("stats %+v (started %v)", st, start)
		}
	})
}

// A ResumeSource source's cursor is saved with the checkpoint and given back
// on the next run.
func TestSourceCursorInCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.json")
	src := &scriptSource{attempts: []attempt{{steps: []step{ev("a", 1), ev("b", 2), ev("c", 3)}}}}
	c := newSourceClient(t, src, firehose.ResumeSource, firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)))
	if _, err := drain(t, c); !errors.Is(err, firehose.ErrFatal) {
		t.Fatal(err)
	}
	cp, err := firehose.NewFileCheckpointer(path).Load(context.Background())
	if err != nil || cp == nil || len(cp.Ranges) != 1 || string(cp.Ranges[0].Cursor) != "3" || cp.Ranges[0].Watermark != 3 {
		t.Fatalf("checkpoint %+v %v", cp, err)
	}
	again := &scriptSource{attempts: []attempt{{steps: []step{ev("c", 3), ev("d", 4)}}}}
	c2 := newSourceClient(t, again, firehose.ResumeSource, firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)))
	ids, _ := drain(t, c2)
	if string(again.cursor) != "3" || strings.Join(ids, ",") != "d" {
		t.Fatalf("cursor %q, delivered %v: want cursor 3 and only d (c was finished before)", again.cursor, ids)
	}
}

func TestWithSourceRefusesCiscoOptions(t *testing.T) {
	spec := firehose.SourceSpec{Name: "x", New: func(firehose.SourceConfig) (firehose.Source, error) { return &scriptSource{}, nil }}
	for _, o := range []firehose.Option{firehose.WithAPIKey("k"), firehose.WithEndpoint("https://example.test"), firehose.WithTransport(firehose.TransportGRPC)} {
		if _, err := firehose.New(firehose.WithSource(spec), o); err == nil {
			t.Fatal("a Cisco-only option was accepted beside WithSource")
		}
	}
	for _, bad := range []firehose.SourceSpec{{Name: "x"}, {New: spec.New}, {Name: "x", New: spec.New, Resume: 9}} {
		if _, err := firehose.New(firehose.WithSource(bad)); err == nil {
			t.Fatalf("bad spec %+v accepted", bad)
		}
	}
}

func TestZeroClientErrs(t *testing.T) {
	var c firehose.Client
	if _, err := c.Open(context.Background()); err == nil {
		t.Fatal("Open on a zero Client")
	}
	if err := c.Run(context.Background(), func(context.Context, *firehose.Event) error { return nil }); err == nil {
		t.Fatal("Run on a zero Client")
	}
	_ = c.Stats()
	_ = c.String()
}

func TestHooksComposeAndStatsByTypeAndReceiver(t *testing.T) {
	src := &scriptSource{attempts: []attempt{{steps: []step{ev("a", 1), ev("b", 2)}}}}
	var first, second int
	c := newSourceClient(t, src, firehose.ResumeNone,
		firehose.WithConnectHook(func(firehose.ConnectInfo) { first++ }),
		firehose.WithConnectHook(func(firehose.ConnectInfo) { second++ }))
	ctx := context.Background()
	s, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rs := c.ReceiverStats()
	if len(rs) != 1 || rs[0].Range != firehose.AllPartitions || rs[0].Source != "script" || rs[0].EventsByType[firehose.TypeOther] != 2 {
		t.Fatalf("receiver stats %+v", rs)
	}
	s.Close()
	if first != 1 || second != 1 {
		t.Fatalf("hooks called %d and %d times, want both once", first, second)
	}
	if len(c.ReceiverStats()) != 0 || c.Stats().Events != 2 {
		t.Fatal("a closed stream is still listed, or the sum lost it")
	}
}

func TestStateIsVisible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		unavailable := &firehose.StatusError{Transport: "script", Code: 503}
		src := &scriptSource{attempts: []attempt{{err: unavailable}, {steps: []step{ev("a", 1), {block: true}}}}}
		c := newSourceClient(t, src, firehose.ResumeNone, firehose.WithBackoff(10*time.Second, 10*time.Second), firehose.WithIdleTimeout(time.Hour))
		if st := c.Stats(); st.State != firehose.StateIdle {
			t.Fatalf("before Open: %v", st.State)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opened := make(chan firehose.Stream, 1)
		go func() {
			s, err := c.Open(ctx)
			if err != nil {
				t.Error(err)
			}
			opened <- s
		}()
		synctest.Wait() // the first attempt failed: backing off
		st := c.Stats()
		if st.State != firehose.StateBackingOff || st.Failures != 1 || st.RetryAt.IsZero() || !strings.Contains(st.LastError, "503") {
			t.Fatalf("while backing off: %+v", st)
		}
		s := <-opened
		if st := c.Stats(); st.State != firehose.StateConnected {
			t.Fatalf("after Open: %v", st.State)
		}
		s.Close()
		if st := c.Stats(); st.State != firehose.StateStopped {
			t.Fatalf("after Close: %v", st.State)
		}
	})
}

func TestClientStatsDescribeTheOpenStreams(t *testing.T) {
	src := &scriptSource{attempts: []attempt{
		{steps: []step{ev("a", 100), ev("b", 200)}},
		{steps: []step{ev("c", 300), ev("d", 400), {block: true}}},
	}}
	c := newSourceClient(t, src, firehose.ResumeNone, firehose.WithIdleTimeout(time.Hour))
	ctx := context.Background()
	read := func(s firehose.Stream, n int) {
		t.Helper()
		for range n {
			if _, err := s.Next(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	first, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	read(first, 2)
	first.Close()
	if st := c.Stats(); st.State != firehose.StateStopped || st.Watermark != 200 || st.Events != 2 {
		t.Fatalf("after the first stream closed: %+v", st)
	}
	second, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	read(second, 2)
	// The closed stream's counts stay in the sum; its state and watermark no
	// longer describe the client.
	st := c.Stats()
	if st.State != firehose.StateConnected || st.Connected != 1 || st.Watermark != 300 {
		t.Fatalf("with a second stream open: state %v, connected %d, watermark %d; want connected, 1, 300", st.State, st.Connected, st.Watermark)
	}
	if st.Events != 4 || st.Connects != 2 || st.EventsByType[firehose.TypeOther] != 4 || st.Source != "script" {
		t.Fatalf("the counts of both streams: %+v", st)
	}
}
