package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/internal/cliexit"
	"github.com/firehose-go/firehose/internal/printable"
	"github.com/firehose-go/firehose/internal/sourceflags"
)

const topAbout = `Watch a firehose live: events per second overall and by type (with a
sparkline of the last minute), each receiver's state and lag, reconnects, gaps,
duplicates dropped and the latest error. It prints no events. On a terminal
the view redraws in place and q quits; otherwise one plain line per interval.
It takes tail's source flags (--source and the rest); it never keeps a
checkpoint.

Secrets (--key, --token, --password) are read from the environment when the
flag is not given, and never printed.`

// topHistory is how many samples the sparkline keeps: a minute at 1 s.
const topHistory = 60

func runTop(ctx context.Context, e *env, args []string) int {
	var c tailConfig
	fs := e.newFlagSet("top", "[flags]", topAbout)
	c.flags(fs, false)
	receivers := fs.Int("receivers", 0, "cisco: run `N` receivers in parallel, each on its share of the partitions (see 'firehose plan N')")
	var every time.Duration
	sourceflags.Duration(fs, &every, "interval", time.Second, "refresh every `D`")
	if code := e.parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageError("top", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if every <= 0 {
		return e.usageError("top", fmt.Sprintf("--interval %v: want a positive duration such as 1s", every))
	}
	opts, err := c.options(e, time.Now(), nil)
	if err != nil {
		return e.usageError("top", err.Error())
	}
	if *receivers > 1 && c.built.Source != sourceflags.Cisco {
		return e.usageError("top", fmt.Sprintf("--receivers applies to --source cisco, not %s", c.built.Source))
	}
	if *receivers < 0 || *receivers > firehose.Partitions {
		return e.usageError("top", fmt.Sprintf("--receivers %d: want 1 to 12", *receivers))
	}
	if *receivers > 1 {
		opts = append(opts, firehose.WithReceivers(*receivers))
	}
	client, err := firehose.New(opts...)
	if err != nil {
		return e.usageError("top", cliexit.Clean(err))
	}
	return e.top(ctx, &c, client, every)
}

func (e *env) top(ctx context.Context, c *tailConfig, client *firehose.Client, every time.Duration) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.duration > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, c.duration)
		defer stop()
	}
	var term *terminal
	if f, ok := e.stdout.(*os.File); ok && isTerminal(f) {
		term = openTerminal(f, os.Stdin, cancel)
		defer term.restore()
	}
	var n atomic.Int64
	runErr := make(chan error, 1)
	go func() {
		runErr <- client.RunBorrowed(ctx, func(context.Context, *firehose.BorrowedEvent) error {
			if n.Add(1) == c.count {
				cancel()
			}
			return nil
		})
	}()

	var smp topSampler
	draw := func(now time.Time) {
		snap := smp.sample(now, client.Stats(), client.ReceiverStats())
		if term != nil {
			w, h := term.size()
			term.draw(renderTop(snap, w, h))
			return
		}
		st := snap.Total
		fmt.Fprintf(e.stdout, "%s firehose top: %d/%d receivers connected, %s\n", now.UTC().Format(time.RFC3339),
			st.Connected, len(snap.Receivers), statusLine(st, snap.Rate, false, now, 0))
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	smp.sample(time.Now(), client.Stats(), nil) // the baseline
	var err error
loop:
	for {
		select {
		case err = <-runErr:
			break loop
		case now := <-tick.C:
			draw(now)
		}
	}
	if term != nil {
		term.restore()
	}
	return e.end("top", ctx, err, client.Stats().Connects) // q, --count, --duration and signals stop it
}

// topSnapshot is what one frame of top shows.
type topSnapshot struct {
	Rate      float64   // events/s over the last interval
	Spark     []float64 // the last minute of rates, oldest first
	Types     []typeRate
	Receivers []firehose.Stats
	Total     firehose.Stats
}

type typeRate struct {
	Type  firehose.EventType
	Rate  float64
	Total int64
}

// topSampler turns successive Stats into rates.
type topSampler struct {
	at     time.Time
	events int64
	byType map[firehose.EventType]int64
	spark  []float64
}

func (s *topSampler) sample(now time.Time, total firehose.Stats, recv []firehose.Stats) topSnapshot {
	dt := now.Sub(s.at).Seconds()
	snap := topSnapshot{Receivers: recv, Total: total}
	rate := func(n, was int64) float64 {
		if s.at.IsZero() || dt <= 0 {
			return 0
		}
		return float64(n-was) / dt
	}
	snap.Rate = rate(total.Events, s.events)
	for t, n := range total.EventsByType {
		snap.Types = append(snap.Types, typeRate{t, rate(n, s.byType[t]), n})
	}
	slices.SortFunc(snap.Types, func(a, b typeRate) int {
		if a.Rate != b.Rate {
			if a.Rate > b.Rate {
				return -1
			}
			return 1
		}
		if a.Total != b.Total {
			if a.Total > b.Total {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a.Type), string(b.Type))
	})
	if !s.at.IsZero() {
		s.spark = append(s.spark, snap.Rate)
		if len(s.spark) > topHistory {
			s.spark = slices.Delete(s.spark, 0, len(s.spark)-topHistory)
		}
	}
	snap.Spark = slices.Clone(s.spark)
	s.at, s.events, s.byType = now, total.Events, total.EventsByType
	return snap
}

var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values scaled to their maximum, one block each; an empty
// history gives "".
func sparkline(values []float64) string {
	hi := 0.0
	for _, v := range values {
		hi = max(hi, v)
	}
	var b strings.Builder
	for _, v := range values {
		i := 0
		if hi > 0 {
			i = int(v / hi * float64(len(sparkBlocks)-1))
		}
		b.WriteRune(sparkBlocks[min(max(i, 0), len(sparkBlocks)-1)])
	}
	return b.String()
}

// renderTop draws one frame: at most height lines, none wider than width
// runes. It is a pure function of its arguments.
func renderTop(s topSnapshot, width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	st := s.Total
	source := st.Source
	if source == "" {
		source = "-"
	}
	head := []string{
		fmt.Sprintf("firehose top · %s · %d/%d receivers connected · q quits", source, st.Connected, len(s.Receivers)),
		fmt.Sprintf("%.0f events/s · %d events · lag %s", s.Rate, st.Events, lagText(st)),
	}
	if n := width - len("last minute "); n > 0 {
		spark := s.Spark
		if len(spark) > n {
			spark = spark[len(spark)-n:]
		}
		head = append(head, "last minute "+sparkline(spark))
	}

	var tail []string
	tail = append(tail, "", fmt.Sprintf("%-9s %-12s %10s %8s %7s %5s %6s", "RECEIVER", "STATE", "EVENTS", "LAG", "RECONN", "GAPS", "DUPS"))
	for _, r := range s.Receivers {
		state := "connected"
		if r.Connected == 0 {
			state = "down"
		}
		tail = append(tail, fmt.Sprintf("%-9s %-12s %10d %8s %7d %5d %6d", r.Range, state, r.Events, lagText(r),
			r.ReconnectTotal(), r.Gaps, r.Duplicates))
	}
	reconn := fmt.Sprintf("reconnects %d", st.ReconnectTotal())
	if len(st.Reconnects) > 0 {
		reconn += " (" + causes(st.Reconnects) + ")"
	}
	tail = append(tail, "", fmt.Sprintf("%s · gaps %d · duplicates dropped %d · keep-alives %d", reconn, st.Gaps, st.Duplicates, st.KeepAlives))
	if st.LastError != "" {
		tail = append(tail, "last error: "+printable.Clean(st.LastError))
	}

	// The types fill what the head and the tail leave.
	var mid []string
	if room := height - len(head) - len(tail) - 2; room > 0 && len(s.Types) > 0 {
		mid = append(mid, "", fmt.Sprintf("%-28s %10s %12s", "TYPE", "EVENTS/S", "TOTAL"))
		for i, t := range s.Types {
			if i == room {
				break
			}
			mid = append(mid, fmt.Sprintf("%-28s %10.1f %12d", t.Type, t.Rate, t.Total))
		}
	}
	lines := slices.Concat(head, mid, tail)
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = clip(l, width)
	}
	return strings.Join(lines, "\n")
}

func lagText(s firehose.Stats) string {
	if s.LastEvent == 0 {
		return "-"
	}
	return roundLag(s.Lag).String()
}

// clip cuts s to at most width runes.
func clip(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width])
}

// terminal is top's screen: the alternate screen, no cursor, and keys read
// one at a time (q quits) when stdin is a terminal too.
type terminal struct {
	out     *os.File
	restore func()
	done    atomic.Bool
}

func openTerminal(out, in *os.File, quit context.CancelFunc) *terminal {
	t := &terminal{out: out}
	undoRaw := func() {}
	if isTerminal(in) {
		if undo, err := cbreak(int(in.Fd())); err == nil {
			undoRaw = undo
			// The reader blocks in Read until a key: it ends with the
			// process, the way a signal handler does.
			go readKeys(in, quit)
		}
	}
	io.WriteString(out, "\x1b[?1049h\x1b[?25l") // alternate screen, hide the cursor
	t.restore = func() {
		if t.done.Swap(true) {
			return
		}
		io.WriteString(out, "\x1b[?25h\x1b[?1049l")
		undoRaw()
	}
	return t
}

// readKeys cancels on q or Q.
func readKeys(in io.Reader, quit context.CancelFunc) {
	buf := make([]byte, 16)
	for {
		n, err := in.Read(buf)
		for _, b := range buf[:n] {
			if b == 'q' || b == 'Q' {
				quit()
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// size returns the terminal's width and height (80x24 when unknown).
func (t *terminal) size() (int, int) {
	if w, h, err := windowSize(int(t.out.Fd())); err == nil && w > 0 && h > 0 {
		return w, h
	}
	return 80, 24
}

// draw replaces the screen with frame.
func (t *terminal) draw(frame string) {
	var b strings.Builder
	b.WriteString("\x1b[H")
	for l := range strings.SplitSeq(frame, "\n") {
		b.WriteString(l)
		b.WriteString("\x1b[K\r\n")
	}
	b.WriteString("\x1b[J")
	io.WriteString(t.out, b.String())
}
