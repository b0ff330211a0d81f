package benchrun

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Stat is the median and the best of one figure over a row's samples.
type Stat struct{ Median, Best float64 }

func stat(ss []Sample, f func(Sample) float64, higherIsBetter bool) Stat {
	if len(ss) == 0 {
		return Stat{math.NaN(), math.NaN()}
	}
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	slices.Sort(xs)
	med := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		med = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	best := xs[0]
	if higherIsBetter {
		best = xs[len(xs)-1]
	}
	return Stat{med, best}
}

// EventsPerSec, MBPerSec, CPUPerEvent and AllocsPerEvent summarise a row.
func (r *Row) EventsPerSec() Stat { return stat(r.Samples, Sample.EventsPerSec, true) }
func (r *Row) MBPerSec() Stat     { return stat(r.Samples, Sample.MBPerSec, true) }
func (r *Row) CPUPerEvent() Stat  { return stat(r.Samples, Sample.CPUPerEvent, false) }
func (r *Row) AllocsPerEvent() Stat {
	return stat(r.Samples, Sample.AllocsPerEvent, false)
}

func (r *Row) ok() bool { return len(r.Samples) > 0 && r.Err == "" }

// ratio is a/b of the medians of two rows' figure, NaN when either is missing.
func ratio(a, b *Row, f func(*Row) Stat) float64 {
	if a == nil || b == nil || !a.ok() || !b.ok() {
		return math.NaN()
	}
	return f(a).Median / f(b).Median
}

func (r *Report) base(transport, client string) *Row { return r.Row(transport, client) }

// WriteMarkdown writes the figures table, the target checks and the memory
// figures as Markdown. ×raw and ×naive compare events/s; CPU ×raw is the
// row's CPU per event over raw's; CPU ÷naive is naive's CPU per event over
// the row's (how many times cheaper than naive the row is per event).
func (r *Report) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "Machine: %s  \n", r.Machine)
	if r.Peers != "" {
		fmt.Fprintf(w, "Peers: %s  \n", r.Peers)
	}
	if len(r.Rows) == 0 {
		if r.Memory != nil {
			fmt.Fprintln(w)
			r.Memory.WriteMarkdown(w)
		}
		return
	}
	fmt.Fprintf(w, "Input: %d events (%.1f MB of NDJSON, %.0f B/event) per pass", r.Events, float64(r.Bytes)/1e6, float64(r.Bytes)/float64(max(r.Events, 1)))
	if r.ShortEvents > 0 {
		fmt.Fprintf(w, " (naive and gRPC rows: the first %d)", r.ShortEvents)
	}
	fmt.Fprintf(w, ", %d alternating rounds; figures are medians (best in brackets), every pass checked\n\n", r.Rounds)
	fmt.Fprintln(w, "| transport | client | events/s | MB/s | CPU µs/event | allocs/event | ×raw | ×naive | CPU ×raw | CPU ÷naive |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, row := range r.Rows {
		switch {
		case row.Skipped != "":
			fmt.Fprintf(w, "| %s | %s | skipped: %s ||||||||\n", row.Transport, row.Client, mdEscape(row.Skipped))
			continue
		case !row.ok():
			fmt.Fprintf(w, "| %s | %s | FAILED: %s ||||||||\n", row.Transport, row.Client, mdEscape(row.Err))
			continue
		}
		ev, mb, cpu, al := row.EventsPerSec(), row.MBPerSec(), row.CPUPerEvent(), row.AllocsPerEvent()
		raw, naive := r.base(row.Transport, Raw), r.base(row.Transport, Naive)
		xraw, xnaive, cpuRaw, cpuNaive := "", "", "", ""
		if row.Client != Raw {
			xraw = fmtRatio(ratio(row, raw, (*Row).EventsPerSec))
			cpuRaw = fmtRatio(ratio(row, raw, (*Row).CPUPerEvent))
		}
		if row.Client != Naive && row.Client != Raw {
			xnaive = fmtRatio(ratio(row, naive, (*Row).EventsPerSec))
			cpuNaive = fmtRatio(ratio(naive, row, (*Row).CPUPerEvent))
		}
		fmt.Fprintf(w, "| %s | %s | %s (%s) | %.0f | %.3f (%.3f) | %s | %s | %s | %s | %s |\n",
			row.Transport, row.Client, thousands(ev.Median), thousands(ev.Best), mb.Median,
			cpu.Median, cpu.Best, fmtAllocs(al.Median), xraw, xnaive, cpuRaw, cpuNaive)
	}
	if row := firstErr(r.Rows); row != nil {
		fmt.Fprintf(w, "\nFAILED %s/%s: %s\n", row.Transport, row.Client, row.Err)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets (medians):")
	fmt.Fprintln(w)
	for _, t := range r.Targets() {
		fmt.Fprintf(w, "- %s\n", t)
	}
	if note := r.peersNote(); note != "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, note)
	}
	if r.Memory != nil {
		fmt.Fprintln(w)
		r.Memory.WriteMarkdown(w)
	}
}

func firstErr(rows []*Row) *Row {
	for _, r := range rows {
		if r.Err != "" {
			return r
		}
	}
	return nil
}

// target is one goal of the issue.
type target struct {
	transport, client string
	what              string
	value             func(*Report, *Row) float64
	atLeast           bool
	goal              float64
	unit              string
}

func vsRaw(r *Report, row *Row) float64 {
	return ratio(row, r.base(row.Transport, Raw), (*Row).EventsPerSec)
}
func vsNaive(r *Report, row *Row) float64 {
	return ratio(row, r.base(row.Transport, Naive), (*Row).EventsPerSec)
}
func cpuVsRaw(r *Report, row *Row) float64 {
	return ratio(row, r.base(row.Transport, Raw), (*Row).CPUPerEvent)
}
func vsNode(r *Report, row *Row) float64 {
	return ratio(row, r.base(row.Transport, Node), (*Row).EventsPerSec)
}
func cpuVsNode(r *Report, row *Row) float64 {
	return ratio(row, r.base(row.Transport, Node), (*Row).CPUPerEvent)
}
func cpuUS(_ *Report, row *Row) float64  { return row.CPUPerEvent().Median }
func allocs(_ *Report, row *Row) float64 { return row.AllocsPerEvent().Median }

var targets = []target{
	{HTTP, Owned, "events/s vs raw", vsRaw, true, 0.5, "×"},
	{HTTP, Owned, "events/s vs naive", vsNaive, true, 10, "×"},
	{HTTP, Owned, "CPU per event", cpuUS, false, 1.3, "µs"},
	{HTTP, Owned, "allocs per event", allocs, false, 2, ""},
	{HTTP, Borrowed, "events/s vs raw", vsRaw, true, 0.85, "×"},
	{HTTP, Borrowed, "events/s vs naive", vsNaive, true, 20, "×"},
	{HTTP, Borrowed, "CPU per event", cpuUS, false, 0.7, "µs"},
	{HTTP, Borrowed, "allocs per event", allocs, false, 1, ""},
	{HTTP, Tail, "events/s vs raw", vsRaw, true, 0.85, "×"},
	{WS, Owned, "events/s vs raw", vsRaw, true, 0.8, "×"},
	{WS, Owned, "events/s vs naive", vsNaive, true, 6, "×"},
	{WS, Owned, "CPU vs raw", cpuVsRaw, false, 1.2, "×"},
	{WS, Owned, "allocs per event", allocs, false, 3, ""},
	{WS, Borrowed, "events/s vs raw", vsRaw, true, 0.9, "×"},
	{WS, Borrowed, "CPU vs node", cpuVsNode, false, 0.5, "×"},
	{WSUnbatched, Borrowed, "CPU per event", cpuUS, false, 2.2, "µs"},
	{WSUnbatched, Borrowed, "CPU vs node", cpuVsNode, false, 0.5, "×"},
	{GRPC, Owned, "events/s vs raw", vsRaw, true, 0.8, "×"},
	{GRPC, Owned, "CPU per event", cpuUS, false, 4.5, "µs"},
	{GRPC, Tail, "events/s vs raw", vsRaw, true, 0.9, "×"},
	{GRPC, Tail, "allocs per event", allocs, false, 2, ""},
	{GRPC, Tail, "events/s vs node", vsNode, true, 4, "×"},
}

// rowWords says in words what a row runs, for the target lines.
var rowWords = map[string]string{
	HTTP + "/" + Raw:             "a plain GET read into a buffer, newlines counted",
	HTTP + "/" + Naive:           "bufio.Scanner + json.Unmarshal into a map + a map dedupe",
	WS + "/" + Raw:               "a plain gorilla ReadMessage loop from the same server",
	WS + "/" + Naive:             "ReadMessage + json.Unmarshal into a map + a map dedupe from the same server",
	GRPC + "/" + Raw:             "a plain grpc-go Recv loop, standard codec, no JSON",
	HTTP + "/" + Owned:           "Client.Run, owned events",
	WS + "/" + Owned:             "Client.Run, owned events, from a server that batches its writes",
	WSUnbatched + "/" + Raw:      "a plain gorilla ReadMessage loop from the same server",
	WSUnbatched + "/" + Owned:    "Client.Run, owned events, from a server that writes every frame with its own write(2)",
	WSUnbatched + "/" + Borrowed: "Client.RunBorrowed, from a server that writes every frame with its own write(2): CPU per event, wake-ups included",
	GRPC + "/" + Owned:           "Client.Run, owned events, no JSON",
	HTTP + "/" + Borrowed:        "Client.RunBorrowed",
	WS + "/" + Borrowed:          "Client.RunBorrowed, from a server that batches its writes",
	GRPC + "/" + Borrowed:        "Client.RunBorrowed, no JSON",
	HTTP + "/" + Tail:            "the CLI's tail, every line written out",
	GRPC + "/" + Tail:            "the CLI's tail, the HTTP channel's JSON rendered and written for every event",
	WS + "/" + Node:              "a Node ws client (JSON.parse of every message, keep-alives skipped, a (recordUid, recordTimestamp) window as large as the SDK's) from the same server",
	WS + "/" + NodeRaw:           "a Node ws client counting messages, nothing parsed, from the same server",
	WSUnbatched + "/" + Node:     "a Node ws client (JSON.parse of every message, keep-alives skipped, a (recordUid, recordTimestamp) window as large as the SDK's) from the same server",
	WSUnbatched + "/" + NodeRaw:  "a Node ws client counting messages, nothing parsed, from the same server",
	GRPC + "/" + Node:            "a Node grpc-js client (proto-loader's decode of every record, keep-alives skipped, the same window)",
	GRPC + "/" + NodeRaw:         "a Node grpc-js client counting records, none decoded",
}

// words says what target t compares: "the CLI's tail, … against a plain
// grpc-go Recv loop, …", or what it measures of a row.
func (t target) words() string {
	row := rowWords[t.transport+"/"+t.client]
	if row == "" {
		return ""
	}
	for _, base := range []string{Raw, Naive, Node} {
		if strings.HasSuffix(t.what, " vs "+base) {
			if w := rowWords[t.transport+"/"+base]; w != "" {
				return row + ", against " + w
			}
		}
	}
	return row
}

// Targets checks the targets against the medians.
func (r *Report) Targets() []string {
	var out []string
	for _, t := range targets {
		row := r.Row(t.transport, t.client)
		if row == nil {
			continue
		}
		name := t.transport + "/" + t.client + " " + t.what
		cmp := "≤"
		if t.atLeast {
			cmp = "≥"
		}
		goal := fmt.Sprintf("%s %g%s", cmp, t.goal, t.unit)
		if !row.ok() {
			out = append(out, fmt.Sprintf("n/a %s %s: row did not run", name, goal))
			continue
		}
		// Compared as printed (3 significant digits): 2.0007 allocs is 2.
		v, _ := strconv.ParseFloat(strconv.FormatFloat(t.value(r, row), 'g', 3, 64), 64)
		if math.IsNaN(v) {
			out = append(out, fmt.Sprintf("n/a  %s %s: the row it compares with did not run", name, goal))
			continue
		}
		mark := "MISS"
		if (t.atLeast && v >= t.goal) || (!t.atLeast && v <= t.goal) {
			mark = "ok  "
		}
		line := fmt.Sprintf("%s %s %s: %.3g%s", mark, name, goal, v, t.unit)
		if w := t.words(); w != "" {
			line += " — " + w
		}
		out = append(out, line)
	}
	return out
}

// WriteMarkdown writes the memory figures.
func (m *MemoryReport) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "Memory: duplicate window at its default capacity (%d entries): %.2f MiB of heap.\n\n", m.DedupeCapacity, mib(m.DedupeBytes))
	if len(m.Flat) > 0 {
		last := m.Flat[len(m.Flat)-1]
		lo, hi, end := HeapRange(m.Flat, last.Events/10)
		fmt.Fprintf(w, "Client.Run over %d live events in %.1fs (%.0f events/s): HeapInuse after the first 10%% between %.2f and %.2f MiB, %.2f MiB at the end, %d GCs.\n\n",
			last.Events, m.FlatTook.Seconds(), float64(last.Events)/m.FlatTook.Seconds(), mib(lo), mib(hi), mib(end), last.NumGC)
		fmt.Fprintln(w, "| time | events | HeapInuse MiB | HeapAlloc MiB |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|")
		step := max((len(m.Flat)+11)/12, 1)
		for i, s := range m.Flat {
			if i%step != 0 && i != len(m.Flat)-1 {
				continue
			}
			fmt.Fprintf(w, "| %.1fs | %s | %.2f | %.2f |\n", s.At.Seconds(), thousands(float64(s.Events)), mib(s.HeapInuse), mib(s.HeapAlloc))
		}
		fmt.Fprintln(w)
	}
	if len(m.Slow) > 0 {
		first, last := m.Slow[0], m.Slow[len(m.Slow)-1]
		var hi uint64
		for _, s := range m.Slow {
			hi = max(hi, s.HeapAlloc)
		}
		fmt.Fprintf(w, "Slow handler (sleeps %v per event) against a mock that never waits: %d events in %.1fs; live heap (after a GC) %.2f MiB at %.1fs, at most %.2f MiB, %.2f MiB at the end.\n",
			m.SlowDelay, last.Events, last.At.Seconds(), mib(first.HeapAlloc), first.At.Seconds(), mib(hi), mib(last.HeapAlloc))
	}
}

// peersNote says how the peer rows were measured, when one ran.
func (r *Report) peersNote() string {
	var starts []string
	for _, row := range r.Rows {
		if !row.ok() || !row.Samples[0].Peer {
			continue
		}
		st := stat(row.Samples, func(s Sample) float64 { return s.StartCPU.Seconds() * 1e3 }, false)
		starts = append(starts, fmt.Sprintf("%s/%s %.0f ms", row.Transport, row.Client, st.Median))
	}
	if len(starts) == 0 {
		return ""
	}
	return "Peer rows (node, node-raw; bench/peers): every pass is a process of its own. Its CPU is the process's " +
		"user + system time (wait4's rusage, all threads) less the CPU it had spent when it said ready, before it " +
		"connected (loading its modules and the proto; medians: " + strings.Join(starts, ", ") + "); its wall time " +
		"runs from the go signal to its result line. Its allocations are not counted (–)."
}

// fmtAllocs formats allocations per event; "–" when not counted.
func fmtAllocs(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.2f", x)
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	if x >= 10 {
		return fmt.Sprintf("%.0f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// thousands formats x rounded, with thin commas: 1234567 → "1,234,567".
func thousands(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
