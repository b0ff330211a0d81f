package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

const demoAbout = `Start a mock firehose in this process (no key, no network), fill it with a few
thousand events of every type plus a live trickle, switch faults on (cuts in the
middle of a line, a duplicate burst, a 429 with Retry-After, a 500, a malformed
and an oversized line, a stalled connection), tail it from the start of its log,
and check the outcome against the log: every event exactly once, none lost.
Each transport this build has runs as its own section. Then a consumer with a
checkpoint file is stopped and restarted twice: nothing may repeat.

Two more sections run the other sources on their own mocks: Octave (a socket
dropped mid-flow, the gap it leaves back-filled over REST: nothing lost,
nothing twice) and call events (a socket dropped: the firehose cannot replay,
so the reconnect is reported as a typed gap, and what the server re-sends is
not delivered twice).`

// The demo's shape: small enough to finish in a few seconds, large enough to
// cross every fault.
const (
	demoHistory     = 3000
	demoSpan        = 10 * time.Minute // 5 events/s: a 10 s replay margin replays ~50
	demoRate        = 4                // live events per second
	demoKeepAlive   = 100 * time.Millisecond
	demoIdle        = time.Second
	demoBackoffMin  = 50 * time.Millisecond
	demoBackoffMax  = 500 * time.Millisecond
	demoMaxEvent    = 64 << 10
	demoOversize    = 100 << 10
	demoLiveFor     = time.Second      // the range checked ends no sooner than this after the start,
	demoLiveEdge    = 3                // nor before this many keep-alives: the client caught up
	demoDeadline    = 30 * time.Second // a safety net for a starved machine: a run takes 3-4 s
	demoDupBurst    = 100              // events re-sent at once
	demoFirstEvents = 500              // events on the first good connection
)

// demoTransports are the sections the demo runs, side by side, printed in
// this order; a transport the library does not build is reported as skipped.
var demoTransports = []firehose.Transport{firehose.TransportHTTP, firehose.TransportWebSocket, firehose.TransportGRPC}

// demoScript is the fault plan, one entry per connection attempt.
func demoScript() []firehosetest.Conn {
	return []firehosetest.Conn{
		{Status: 429, RetryAfter: "1", Message: "rate limit exceeded"},
		{After: demoFirstEvents, Action: firehosetest.CutMidLine, Inject: []firehosetest.Inject{
			{At: 100, Kind: firehosetest.Malformed},
			{At: 200, Kind: firehosetest.Oversized, Size: demoOversize},
		}},
		{Status: 500, Message: "internal error"},
		{After: 700, Action: firehosetest.CutMidLine},
		{After: 300, Action: firehosetest.Stall}, // the idle timeout replaces it
		{After: 600, Duplicates: demoDupBurst, Action: firehosetest.CutMidLine},
		{After: 400, Action: firehosetest.Cut},
	}
}

// demoResult is what one section saw.
type demoResult struct {
	transport firehose.Transport
	skipped   string // why the section did not run
	err       error  // why it stopped early
	elapsed   time.Duration
	stats     firehose.Stats
	types     map[firehose.EventType]int
	refused   map[int]int // refused attempts by status
	delivered int
	twice     int // (uid, timestamp) pairs delivered more than once
	foreign   int // delivered events that are not in the log
	wanted    int // log events in the checked range
	missing   int // of those, never delivered
}

func (r *demoResult) ok() bool {
	return r.skipped == "" && r.err == nil && r.twice == 0 && r.foreign == 0 && r.missing == 0 && r.wanted > 0
}

func runDemo(ctx context.Context, e *env, args []string) int {
	fs := e.newFlagSet("demo", "[flags]", demoAbout)
	seed := fs.Int64("seed", 1, "seed of the mock's event log")
	verbose := fs.Bool("v", false, "log the library's connects, reconnects and drops on stderr")
	if code := e.parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageError("demo", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	fmt.Fprintf(e.stdout, "firehose demo: a mock firehose in this process, %d events of history and %d/s live, faults on\n", demoHistory, demoRate)
	// The sections run side by side: each has its own server and its own
	// fault script, and the wall time stays that of one.
	results := make([]*demoResult, len(demoTransports))
	var wg sync.WaitGroup
	for i, t := range demoTransports {
		logger := slog.New(slog.DiscardHandler)
		if *verbose {
			logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("section", string(t))
		}
		wg.Go(func() { results[i] = demoSection(ctx, t, *seed, logger) })
	}
	var others []*sourceResult
	wg.Go(func() { others = append(others, demoOctave(ctx)) })
	wg.Wait()
	others = append(others, demoCallEvents(ctx))
	code, ran := exitOK, 0
	for _, r := range results {
		r.print(e.stdout)
		if r.skipped != "" {
			continue
		}
		ran++
		if !r.ok() {
			code = exitFatal
		}
	}
	if ran == 0 {
		fmt.Fprintln(e.stderr, "firehose demo: no transport is available in this build")
		return exitFatal
	}
	for _, r := range others {
		r.print(e.stdout)
		if !r.ok() {
			code = exitFatal
		}
	}
	if !demoRestart(ctx, e.stdout) {
		code = exitFatal
	}
	return code
}

type eventKey struct {
	uid string
	ts  int64
}

func demoSection(ctx context.Context, t firehose.Transport, seed int64, logger *slog.Logger) *demoResult {
	r := &demoResult{transport: t, types: map[firehose.EventType]int{}, refused: map[int]int{}}
	srv := firehosetest.NewServer(
		firehosetest.WithSeed(seed),
		firehosetest.WithHistory(demoHistory, demoSpan),
		firehosetest.WithRate(demoRate),
		firehosetest.WithKeepAlive(demoKeepAlive),
		firehosetest.WithUnknownTypes(true),
		firehosetest.WithScript(demoScript()...),
	)
	defer srv.Close()
	start := time.Now()
	cutoff := start.Add(demoLiveFor)

	from := int64(0)
	for _, ev := range srv.Log().Events(1, firehose.Partitions) {
		if from == 0 || ev.Timestamp < from {
			from = ev.Timestamp
		}
	}
	client, err := firehose.New(
		firehose.WithEndpoint(demoEndpoint(srv, t)),
		firehose.WithAPIKey(firehosetest.DefaultAPIKey),
		firehose.WithTransport(t),
		firehose.WithStartMillis(from),
		firehose.WithBackoff(demoBackoffMin, demoBackoffMax),
		firehose.WithIdleTimeout(demoIdle),
		firehose.WithMaxEventSize(demoMaxEvent),
		firehose.WithLogger(logger),
	)
	if err != nil {
		r.err = err
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, demoDeadline)
	defer cancel()
	s, err := client.Open(ctx)
	if err != nil {
		if isNotBuilt(err) {
			r.skipped = "not available in this build"
		} else {
			r.err = err
		}
		return r
	}
	seen := map[eventKey]int{}
	var want map[eventKey]bool // the log up to the cutoff, once it has passed
	missing := 0
	for want == nil || missing > 0 {
		ev, err := s.Next(ctx)
		if err != nil {
			r.err = err
			break
		}
		k := eventKey{ev.ID(), ev.Timestamp()}
		seen[k]++
		r.delivered++
		r.types[ev.Type()]++
		if want == nil && time.Now().After(cutoff) && s.Stats().KeepAlives >= demoLiveEdge {
			want = map[eventKey]bool{}
			for _, le := range srv.Log().Events(1, firehose.Partitions) {
				lk := eventKey{le.UID, le.Timestamp}
				want[lk] = true
				if seen[lk] == 0 {
					missing++
				}
			}
		} else if want[k] && seen[k] == 1 {
			missing--
		}
	}
	r.elapsed = time.Since(start)
	s.Close()
	r.stats = client.Stats()
	// The server knows best which attempts it refused, whatever the
	// transport's way of saying so.
	for _, req := range srv.Requests() {
		if req.Status != 200 {
			r.refused[req.Status]++
		}
	}
	logged := map[eventKey]bool{}
	for _, le := range srv.Log().Events(1, firehose.Partitions) {
		logged[eventKey{le.UID, le.Timestamp}] = true
	}
	for k, n := range seen {
		if n > 1 {
			r.twice++
		}
		if !logged[k] {
			r.foreign++
		}
	}
	r.wanted = len(want)
	for k := range want {
		if seen[k] == 0 {
			r.missing++
		}
	}
	return r
}

// demoEndpoint is where transport t reaches srv.
func demoEndpoint(srv *firehosetest.Server, _ firehose.Transport) string {
	return srv.URL
}

func (r *demoResult) print(w io.Writer) {
	fmt.Fprintln(w)
	if r.skipped != "" {
		fmt.Fprintf(w, "%s: skipped: %s\n", r.transport, r.skipped)
		return
	}
	st := r.stats
	fmt.Fprintf(w, "%s: %d events delivered in %s\n", r.transport, r.delivered, r.elapsed.Round(10*time.Millisecond))
	fmt.Fprintf(w, "  by type:            %s\n", wrap(typeCounts(r.types), 22, 100))
	fmt.Fprintf(w, "  duplicates dropped: %d\n", st.Duplicates)
	fmt.Fprintf(w, "  keep-alives:        %d\n", st.KeepAlives)
	fmt.Fprintf(w, "  lines dropped:      %d malformed, %d oversized", st.Malformed, st.Oversized)
	if st.Torn > 0 {
		fmt.Fprintf(w, ", %d torn", st.Torn)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  unknown types:      %d delivered\n", st.Unknown)
	fmt.Fprintf(w, "  refused attempts:   %s\n", refusals(r.refused))
	fmt.Fprintf(w, "  reconnects:         %d", st.ReconnectTotal())
	if len(st.Reconnects) > 0 {
		fmt.Fprintf(w, " (%s)", causes(st.Reconnects))
	}
	fmt.Fprintln(w)
	if r.err != nil {
		fmt.Fprintf(w, "  stopped early:      %v\n", r.err)
	}
	if r.ok() {
		fmt.Fprintf(w, "  verdict:            every event exactly once, none lost (%d log events, compared by recordUid and recordTimestamp)\n", r.wanted)
		return
	}
	var why []string
	switch {
	case r.wanted == 0:
		why = append(why, "it never caught up with the log")
	case r.missing > 0:
		why = append(why, fmt.Sprintf("%d of %d log events never delivered", r.missing, r.wanted))
	}
	if r.twice > 0 {
		why = append(why, fmt.Sprintf("%d delivered more than once", r.twice))
	}
	if r.foreign > 0 {
		why = append(why, fmt.Sprintf("%d delivered that are not in the log", r.foreign))
	}
	fmt.Fprintf(w, "  verdict:            FAILED: %s\n", strings.Join(why, ", "))
}

// wrap breaks a ", "-separated list into lines of at most width columns,
// continuation lines indented by indent spaces (the first line's prefix is
// the caller's).
func wrap(list string, indent, width int) string {
	var b strings.Builder
	col := indent
	for i, item := range strings.Split(list, ", ") {
		if i > 0 {
			b.WriteString(",")
			col++
			if col+1+len(item) > width {
				b.WriteString("\n" + strings.Repeat(" ", indent))
				col = indent
			} else {
				b.WriteString(" ")
				col++
			}
		}
		b.WriteString(item)
		col += len(item)
	}
	return b.String()
}

// typeCounts lists per-type counts, largest first.
func typeCounts(m map[firehose.EventType]int) string {
	type tc struct {
		t firehose.EventType
		n int
	}
	var all []tc
	for t, n := range m {
		all = append(all, tc{t, n})
	}
	slices.SortFunc(all, func(a, b tc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.t, b.t)
	})
	parts := make([]string, len(all))
	for i, x := range all {
		parts[i] = fmt.Sprintf("%s %d", x.t, x.n)
	}
	return strings.Join(parts, ", ")
}

// refusals formats refused attempts by status: "2 (429 x1, 500 x1)".
func refusals(m map[int]int) string {
	if len(m) == 0 {
		return "0"
	}
	total := 0
	for _, n := range m {
		total += n
	}
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d x%d", c, m[c])
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}
