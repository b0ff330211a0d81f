package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/internal/cliexit"
)

// Status line refresh: in place on a terminal of its own, a plain line
// otherwise.
const (
	redrawEvery = 500 * time.Millisecond
	logEvery    = 10 * time.Second
)

// The error log: each distinct error once, at most errBurst lines per
// errWindow; what is held back is counted on the next line.
const (
	errBurst    = 5
	errWindow   = 10 * time.Second
	errSeenSize = 1024 // distinct errors remembered; then the memory starts over
)

// status reports a stream's counters on stderr while it runs, and logs its
// recoverable errors there, both through one writer so a log line never
// lands in the middle of a redrawn status line.
type status struct {
	name   string // "firehose tail"
	w      io.Writer
	redraw bool       // redraw one line in place (stderr is a terminal of its own)
	stamp  bool       // prefix plain lines with the time (stderr is no terminal)
	width  func() int // the terminal's columns; 0: no limit
	every  time.Duration
	now    func() time.Time

	mu         sync.Mutex // one writer at a time
	stats      func() firehose.Stats
	lastAt     time.Time
	lastCount  int64
	drawn      string // the redrawn line on screen, "" if none
	seen       map[string]bool
	windowAt   time.Time
	inWindow   int
	suppressed int

	stop, done chan struct{}
}

// newStatus makes the status of command name ("tail") for e's stderr.
func (e *env) newStatus(name string) *status {
	s := &status{name: "firehose " + name, w: e.stderr, now: time.Now, width: e.termWidth, seen: map[string]bool{}}
	switch {
	case e.stderrTTY && !e.sameTerminal:
		s.redraw, s.every = true, redrawEvery
	case e.stderrTTY:
		s.every = logEvery // events share the screen: plain lines between them
	default:
		s.every, s.stamp = logEvery, true
	}
	if s.width == nil {
		s.width = func() int { return 0 }
	}
	return s
}

// start begins the updates.
func (s *status) start(stats func() firehose.Stats) {
	s.mu.Lock()
	s.stats = stats
	s.lastAt = s.now()
	s.mu.Unlock()
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.loop()
}

func (s *status) loop() {
	defer close(s.done)
	t := time.NewTicker(s.every)
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

func (s *status) stopLoop() {
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
}

// finish stops the updates and prints the final counters on a line of their own.
func (s *status) finish() {
	s.stopLoop()
	s.print(true)
}

// halt stops the updates without a final line, ending a redrawn one.
func (s *status) halt() {
	s.stopLoop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn != "" {
		fmt.Fprint(s.w, "\n")
		s.drawn = ""
	}
}

// columns is the room a line has: the terminal's width less prefix, less one
// column so the cursor never sits past the edge; 0 without a limit.
func (s *status) columns(prefix int) int {
	w := s.width()
	if w <= 0 {
		return 0
	}
	return max(w-1-prefix, 1)
}

func (s *status) print(final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stats == nil {
		return
	}
	st := s.stats()
	now := s.now()
	rate := 0.0
	if dt := now.Sub(s.lastAt).Seconds(); dt > 0 {
		rate = float64(st.Events-s.lastCount) / dt
	}
	s.lastAt, s.lastCount = now, st.Events
	if s.redraw {
		line := statusLine(st, rate, final, now, s.columns(0))
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(s.w, "\r%s\x1b[K%s", line, end)
		s.drawn = line
		if final {
			s.drawn = ""
		}
		return
	}
	prefix := s.prefix(now)
	fmt.Fprintf(s.w, "%s%s\n", prefix, statusLine(st, rate, final, now, s.columns(utf8.RuneCountInString(prefix))))
}

// prefix starts a plain line: "firehose tail: ", after the time when
// stderr is a file or a pipe.
func (s *status) prefix(now time.Time) string {
	if s.stamp {
		return now.UTC().Format(time.RFC3339) + " " + s.name + ": "
	}
	return s.name + ": "
}

// logError is the error hook: each distinct error once, in full, sanitized,
// rate-limited. It may be called concurrently, from any receiver.
func (s *status) logError(err error) {
	msg := cliexit.Clean(err)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[msg] {
		return
	}
	now := s.now()
	if now.Sub(s.windowAt) >= errWindow {
		s.windowAt, s.inWindow = now, 0
	}
	if s.inWindow >= errBurst {
		s.suppressed++
		return
	}
	s.inWindow++
	if len(s.seen) >= errSeenSize {
		clear(s.seen)
	}
	s.seen[msg] = true
	if s.suppressed > 0 {
		msg += fmt.Sprintf(" (and %s not shown)", plural(int64(s.suppressed), "more error"))
		s.suppressed = 0
	}
	line := s.prefix(now) + msg
	if s.drawn != "" {
		// Clear the status line, log, and draw it again below.
		fmt.Fprintf(s.w, "\r\x1b[K%s\n%s", line, s.drawn)
		return
	}
	fmt.Fprintln(s.w, line)
}

// logWriter is a writer for whole log lines (-v): each write clears a
// redrawn status line, goes out, and the status line is drawn again.
func (s *status) logWriter() io.Writer { return statusLog{s} }

type statusLog struct{ s *status }

func (l statusLog) Write(p []byte) (int, error) {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn == "" {
		return s.w.Write(p)
	}
	if _, err := io.WriteString(s.w, "\r\x1b[K"); err != nil {
		return 0, err
	}
	n, err := s.w.Write(p)
	if err == nil {
		_, err = io.WriteString(s.w, s.drawn)
	}
	return n, err
}

// statusLine formats what a user watches, most important first, in at most
// width runes (0: no limit): the state and failed attempts, events and rate,
// lag, possible gaps by kind, reconnects by cause, duplicates, keep-alives
// and bad frames dropped. The final line leaves out the state, the rate and
// the lag. Fields that do not fit are left out whole.
func statusLine(st firehose.Stats, rate float64, final bool, now time.Time, width int) string {
	var f []string
	if !final {
		f = append(f, stateText(st, now))
	}
	if st.Failures > 0 {
		f = append(f, plural(st.Failures, "failed attempt"))
	}
	f = append(f, plural(st.Events, "event"))
	if !final {
		f = append(f, fmt.Sprintf("%.0f events/s", rate))
		if st.LastEvent > 0 {
			f = append(f, "lag "+roundLag(st.Lag).String())
		}
	}
	if st.Gaps > 0 {
		f = append(f, plural(st.Gaps, "possible gap")+byKind(st.GapsBy))
	}
	if n := st.ReconnectTotal(); n > 0 {
		f = append(f, plural(n, "reconnect")+" ("+causes(st.Reconnects)+")")
	}
	if st.Duplicates > 0 || final {
		f = append(f, plural(st.Duplicates, "duplicate")+" dropped")
	}
	if st.KeepAlives > 0 || final {
		f = append(f, plural(st.KeepAlives, "keep-alive"))
	}
	if n := st.Malformed + st.Oversized + st.Torn; n > 0 {
		f = append(f, plural(n, "bad frame")+" dropped")
	}
	return fit(f, width)
}

// stateText is the receiver's state in words.
func stateText(st firehose.Stats, now time.Time) string {
	switch st.State {
	case firehose.StateIdle:
		return "starting"
	case firehose.StateBackingOff:
		if st.RetryAt.After(now) {
			return "backing off until " + st.RetryAt.Format("15:04:05")
		}
		return "backing off"
	}
	return st.State.String()
}

// fit joins fields with ", " in at most width runes, leaving out the fields
// that do not fit (the first is cut instead).
func fit(fields []string, width int) string {
	line := ""
	for i, f := range fields {
		next := f
		if i > 0 {
			next = line + ", " + f
		}
		if width > 0 && utf8.RuneCountInString(next) > width {
			if i == 0 {
				return clip(f, width)
			}
			break
		}
		line = next
	}
	return line
}

// plural is "1 event", "2 events".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// byKind is " (clamped 1, no_replay 2)", or "" without kinds.
func byKind(m map[firehose.GapReason]int64) string {
	if len(m) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
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
