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
	st := firehose.Stats{
		Events: 1234, Duplicates: 5, KeepAlives: 7, Malformed: 1, Oversized: 1,
		Reconnects: map[firehose.Cause]int64{firehose.CauseNetwork: 2, firehose.CauseIdle: 1},
		LastEvent:  1, Lag: 1234 * time.Millisecond,
		LastError: strings.Repeat("x", 200),
	}
	got := statusLine(st, 99.6, false)
	for _, want := range []string{"100 events/s", "1234 events", "5 duplicates dropped", "7 keep-alives", "2 bad lines dropped",
		"3 reconnects (idle 1, network 2)", "lag 1.2s", "last error: xxx"} {
		if !strings.Contains(got, want) {
			t.Errorf("statusLine = %q, want it to contain %q", got, want)
		}
	}
	if len(got) > 250 {
		t.Errorf("statusLine is %d bytes long: the error is not trimmed", len(got))
	}
	if final := statusLine(firehose.Stats{Events: 3}, 1, true); strings.Contains(final, "events/s") || strings.Contains(final, "lag") {
		t.Errorf("final statusLine = %q, want no rate and no lag", final)
	}
}

func TestStatusRedraw(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	var mu sync.Mutex
	n := int64(0)
	redrawn := make(chan struct{})
	s := startStatus(&buf, true, time.Millisecond, func() firehose.Stats {
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
