package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firehose-go/firehose"
)

// Status line refresh: in place on a terminal, a plain log line otherwise.
const (
	redrawEvery = 500 * time.Millisecond
	logEvery    = 10 * time.Second
	maxErrLen   = 80 // keep a redrawn line on one row
)

// status reports a stream's counters on stderr while it runs.
type status struct {
	w     io.Writer
	tty   bool
	stats func() firehose.Stats
	now   func() time.Time

	mu        sync.Mutex // one writer at a time: the ticker and the final line
	lastAt    time.Time
	lastCount int64
	printed   bool // a redrawn line is on screen

	stop chan struct{}
	done chan struct{}
}

func startStatus(w io.Writer, tty bool, every time.Duration, stats func() firehose.Stats) *status {
	s := &status{w: w, tty: tty, stats: stats, now: time.Now, stop: make(chan struct{}), done: make(chan struct{})}
	s.lastAt = s.now()
	go s.loop(every)
	return s
}

func (s *status) loop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.print(false)
		}
	}
}

// finish stops the updates and prints the final counters on a line of their own.
func (s *status) finish() {
	close(s.stop)
	<-s.done
	s.print(true)
}

// halt stops the updates without a final line, ending a redrawn one.
func (s *status) halt() {
	close(s.stop)
	<-s.done
	if s.tty && s.printed {
		fmt.Fprint(s.w, "\n")
	}
}

func (s *status) print(final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats()
	now := s.now()
	rate := 0.0
	if dt := now.Sub(s.lastAt).Seconds(); dt > 0 {
		rate = float64(st.Events-s.lastCount) / dt
	}
	s.lastAt, s.lastCount = now, st.Events
	line := statusLine(st, rate, final)
	switch {
	case s.tty:
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(s.w, "\r%s\x1b[K%s", line, end)
		s.printed = !final
	default:
		fmt.Fprintf(s.w, "%s firehose tail: %s\n", now.UTC().Format(time.RFC3339), line)
	}
}

// statusLine formats the counters a user watches: rate, totals, what was
// dropped, how often the connection was replaced and the latest trouble.
func statusLine(st firehose.Stats, rate float64, final bool) string {
	var b strings.Builder
	if !final {
		fmt.Fprintf(&b, "%.0f events/s, ", rate)
	}
	fmt.Fprintf(&b, "%d events, %d duplicates dropped, %d keep-alives", st.Events, st.Duplicates, st.KeepAlives)
	if n := st.Malformed + st.Oversized; n > 0 {
		fmt.Fprintf(&b, ", %d bad lines dropped", n)
	}
	fmt.Fprintf(&b, ", %d reconnects", st.ReconnectTotal())
	if len(st.Reconnects) > 0 {
		b.WriteString(" (" + causes(st.Reconnects) + ")")
	}
	if st.Gaps > 0 {
		fmt.Fprintf(&b, ", %d possible gaps", st.Gaps)
	}
	if st.LastEvent > 0 {
		fmt.Fprintf(&b, ", lag %s", roundLag(st.Lag))
	}
	if st.LastError != "" {
		msg := st.LastError
		if len(msg) > maxErrLen {
			msg = msg[:maxErrLen-3] + "..."
		}
		b.WriteString(", last error: " + msg)
	}
	return b.String()
}

// causes lists reconnect counts by cause in a stable order: "eof 2, idle 1".
func causes(m map[firehose.Cause]int64) string {
	keys := make([]firehose.Cause, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func roundLag(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
