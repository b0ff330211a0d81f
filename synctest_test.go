package firehose_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// These tests run the whole engine and the mock in a synctest bubble over an
// in-memory network, so backoffs, Retry-After, keep-alives and idle timeouts
// take their real (default) durations in fake time.

func memClient(t *testing.T, srv *firehosetest.Server, opts ...firehose.Option) *firehose.Client {
	t.Helper()
	c, err := firehose.New(append([]firehose.Option{
		firehose.WithEndpoint(srv.URL),
		firehose.WithAPIKey("test-key"),
		firehose.WithDialer(srv.DialContext),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetryAfterIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithHistory(5, time.Second),
			firehosetest.WithScript(firehosetest.Conn{Status: 429, RetryAfter: "7"}))
		defer srv.Close()
		c := memClient(t, srv, firehose.WithStart(time.Now().Add(-time.Minute)))
		t0 := time.Now()
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if d := time.Since(t0); d < 7*time.Second || d > 8*time.Second {
			t.Fatalf("connected after %v, want Retry-After 7s", d)
		}
	})
}

func TestRateLimitFloorWithoutRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(),
			firehosetest.WithScript(firehosetest.Conn{Status: 429}, firehosetest.Conn{Status: 429, RetryAfter: "3600"}))
		defer srv.Close()
		c := memClient(t, srv)
		t0 := time.Now()
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// 5 s floor, then Retry-After capped at 5 min.
		if d := time.Since(t0); d < 5*time.Second+5*time.Minute || d > 5*time.Second+5*time.Minute+time.Second {
			t.Fatalf("connected after %v, want 5s floor + 5min cap", d)
		}
	})
}

// TestIdleClockOnlyWhileWaiting: holding an event for ten minutes is not
// silence; a server that stalls while the engine waits is.
func TestIdleClockOnlyWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithHistory(3, time.Second),
			firehosetest.WithScript(firehosetest.Conn{After: 3, Action: firehosetest.Stall}))
		defer srv.Close()
		c := memClient(t, srv, firehose.WithStart(time.Now().Add(-time.Minute)))
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := context.Background()
		if _, err := s.Next(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute) // the caller holds the event
		for range 2 {
			if _, err := s.Next(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if st := s.Stats(); st.ReconnectTotal() != 0 {
			t.Fatalf("reconnected while the caller held an event: %+v", st.Reconnects)
		}
		// Now the server stalls with nothing to send: the 45 s idle timeout fires.
		t0 := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Next(ctx) // blocks: the replay brings only duplicates, then keep-alives
		}()
		for s.Stats().Reconnects[firehose.CauseIdle] == 0 {
			time.Sleep(time.Second)
		}
		if d := time.Since(t0); d < firehose.DefaultIdleTimeout || d > firehose.DefaultIdleTimeout*5/4+time.Second {
			t.Fatalf("idle reconnect after %v, want %v to %v", d, firehose.DefaultIdleTimeout, firehose.DefaultIdleTimeout*5/4)
		}
		s.Close()
		<-done
	})
}

// TestKeepAlivesNeverMoveTheResumePoint: minutes of keep-alives after the last
// event, then a cut: the reconnect replays from the last event, not from the
// keep-alives' clock.
func TestKeepAlivesNeverMoveTheResumePoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithHistory(4, time.Second),
			firehosetest.WithScript(firehosetest.Conn{After: 4, Action: firehosetest.None}))
		defer srv.Close()
		c := memClient(t, srv, firehose.WithStart(time.Now().Add(-time.Minute)), firehose.WithIdleTimeout(20*time.Second))
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var last int64
		for range 4 {
			ev, err := s.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			last = max(last, ev.Timestamp())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if _, err := s.Next(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Next: %v", err)
		}
		// Reconnect (the previous Next dropped the connection when its ctx ended).
		ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
		defer cancel2()
		if _, err := s.Next(ctx2); err != context.DeadlineExceeded {
			t.Fatalf("Next: %v", err)
		}
		st := s.Stats()
		if st.KeepAlives < 5 {
			t.Fatalf("keep-alives = %d over 3 minutes", st.KeepAlives)
		}
		if st.Watermark != last {
			t.Fatalf("watermark %d, want the last event's %d", st.Watermark, last)
		}
		reqs := srv.Requests()
		if len(reqs) < 2 {
			t.Fatalf("%d requests, want a reconnect", len(reqs))
		}
		for _, r := range reqs[1:] {
			if r.FromTimestamp != last-firehose.DefaultReplayMargin.Milliseconds() {
				t.Fatalf("reconnect from %d, want %d", r.FromTimestamp, last-firehose.DefaultReplayMargin.Milliseconds())
			}
		}
	})
}

// TestLiveStartDropBeforeFirstEvent: a live start whose first connection drops
// before any event replays from when it connected, minus the margin.
func TestLiveStartDropBeforeFirstEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithRate(1),
			firehosetest.WithScript(firehosetest.Conn{Action: firehosetest.Stall}))
		defer srv.Close()
		c := memClient(t, srv)
		t0 := time.Now()
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
		reqs := srv.Requests()
		if reqs[0].HasFromTimestamp {
			t.Fatalf("live start sent fromTimestamp %d", reqs[0].FromTimestamp)
		}
		// The Date header has one-second resolution.
		want := t0.Add(-firehose.DefaultReplayMargin).UnixMilli()
		if got := reqs[1].FromTimestamp; got > want || got < want-1000 {
			t.Fatalf("second request from %d, want about %d", got, want)
		}
	})
}

// TestResumeClampedToReplayWindow: a start older than the window is clamped
// and reported as a possible gap.
func TestResumeClampedToReplayWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithHistory(5, time.Second))
		defer srv.Close()
		var hooked []error
		c := memClient(t, srv, firehose.WithStart(time.Now().Add(-2*time.Hour)), firehose.WithErrorHook(func(err error) { hooked = append(hooked, err) }))
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		want := time.Now().Add(-firehose.DefaultReplayWindow).UnixMilli()
		if got := srv.Requests()[0].FromTimestamp; got != want {
			t.Fatalf("from %d, want the window's start %d", got, want)
		}
		if st := s.Stats(); st.Gaps != 1 || len(hooked) != 1 {
			t.Fatalf("gaps %d, hooked %v", st.Gaps, hooked)
		}
	})
}

// TestReplayThatStartsLateIsReported: the server's window no longer reaches
// the resume point; the client sees the replay begin past its watermark with
// no already-seen event first, and reports a possible gap.
func TestReplayThatStartsLateIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithHistory(20, 10*time.Second),
			firehosetest.WithRate(1), firehosetest.WithReplayWindow(time.Minute),
			firehosetest.WithScript(firehosetest.Conn{After: 20, Action: firehosetest.Stall}))
		defer srv.Close()
		var hooked []error
		c := memClient(t, srv, firehose.WithStart(time.Now().Add(-time.Minute)),
			firehose.WithErrorHook(func(err error) { hooked = append(hooked, err) }))
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for range 20 {
			if _, err := s.Next(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		// The caller holds the last event for 5 minutes; the server's 1-minute
		// window moves on. The stalled connection then idles out and the
		// reconnect asks for the watermark minus the margin.
		time.Sleep(5 * time.Minute)
		if _, err := s.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.Gaps != 1 {
			t.Fatalf("gaps = %d, want 1 (errors: %v)", st.Gaps, hooked)
		}
	})
}
