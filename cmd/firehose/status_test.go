package main

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
)

func TestStatusLine(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.Local)
	st := firehose.Stats{
		State: firehose.StateConnected, Failures: 1,
		Events: 1234, Duplicates: 5, KeepAlives: 7, Malformed: 1, Oversized: 1,
		Reconnects: map[firehose.Cause]int64{firehose.CauseNetwork: 2, firehose.CauseIdle: 1},
		Gaps:       3, GapsBy: map[firehose.GapReason]int64{firehose.GapClamped: 1, firehose.GapNoReplay: 2},
		LastEvent: 1, Lag: 1234 * time.Millisecond,
		LastError: strings.Repeat("x", 200),
	}
	got := statusLine(st, 99.6, false, now, 0)
	want := "connected, 1 failed attempt, 1234 events, 100 events/s, lag 1.2s, 3 possible gaps (clamped 1, no_replay 2), " +
		"3 reconnects (idle 1, network 2), 5 duplicates dropped, 7 keep-alives, 2 bad frames dropped"
	if got != want {
		t.Errorf("statusLine =\n%q\nwant\n%q", got, want)
	}
	if strings.Contains(got, "xxx") {
		t.Error("the status line carries the last error: it is logged on a line of its own")
	}
	// Narrow terminals: whole fields are left out, the most important kept.
	for _, w := range []int{80, 40, 20, 5} {
		got := statusLine(st, 99.6, false, now, w)
		if n := len([]rune(got)); n > w {
			t.Errorf("width %d: %d runes: %q", w, n, got)
		}
		if w >= 40 && !strings.HasPrefix(got, "connected, 1 failed attempt") {
			t.Errorf("width %d: %q, want the state first", w, got)
		}
	}
	if got := statusLine(firehose.Stats{Events: 1, KeepAlives: 1}, 1, true, now, 0); got != "1 event, 0 duplicates dropped, 1 keep-alive" {
		t.Errorf("final statusLine = %q, want singulars and no rate, lag or state", got)
	}
	failing := firehose.Stats{State: firehose.StateBackingOff, RetryAt: now.Add(3 * time.Second), Failures: 4}
	if got, want := statusLine(failing, 0, false, now, 0), "backing off until 12:00:03, 4 failed attempts, 0 events, 0 events/s"; got != want {
		t.Errorf("failing statusLine = %q, want %q", got, want)
	}
	for s, want := range map[firehose.State]string{firehose.StateConnecting: "connecting", firehose.StateStopped: "stopped", firehose.StateIdle: "starting"} {
		if got := statusLine(firehose.Stats{State: s}, 0, false, now, 0); !strings.HasPrefix(got, want+", ") {
			t.Errorf("state %v: %q, want it to start with %q", s, got, want)
		}
	}
}

func TestStatusRedraw(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	var mu sync.Mutex
	n := int64(0)
	redrawn := make(chan struct{})
	s := &status{name: "firehose tail", w: &buf, redraw: true, every: time.Millisecond, now: time.Now, width: func() int { return 0 }, seen: map[string]bool{}}
	s.start(func() firehose.Stats {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 2 {
			close(redrawn) // the first redraw is done, the second under way
		}
		return firehose.Stats{Events: n}
	})
	<-redrawn
	s.finish()
	out := buf.String()
	if !strings.HasPrefix(out, "\r") || !strings.Contains(out, "\x1b[K") || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("terminal status output %q: want lines redrawn in place and one final newline", out)
	}
}

func TestOutputFlushError(t *testing.T) {
	t.Parallel()
	got := make(chan error, 1)
	o := newOutput(&epipeWriter{limit: 0}, func(err error) { got <- err })
	if err := o.writeLine([]byte(`{"a":1}`)); err != nil {
		t.Fatalf("a buffered write failed: %v", err)
	}
	// The flusher finds the broken pipe while nothing else writes.
	if err := <-got; !isBrokenPipe(err) {
		t.Fatalf("flusher reported %v, want EPIPE", err)
	}
	if err := o.close(); !isBrokenPipe(err) {
		t.Fatalf("close = %v, want EPIPE", err)
	}
	if isBrokenPipe(errors.New("disk full")) {
		t.Error("isBrokenPipe(disk full) = true")
	}
}
