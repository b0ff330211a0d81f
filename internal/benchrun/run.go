package benchrun

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"io"
)

// Defaults of Config.
const (
	DefaultEvents       = 300_000
	DefaultShortEvents  = 50_000
	DefaultRounds       = 5
	DefaultMemoryEvents = 10_000_000
	DefaultSpan         = time.Minute
	DefaultSeed         = 1
)

// Config is one bench run.
type Config struct {
	Events       int      // events in the mock's history, read in full by every pass (default 300,000)
	ShortEvents  int      // what the slow rows (naive, gRPC) read: the history's first ShortEvents events (default 50,000)
	Rounds       int      // measured passes per row, alternating between rows (default 5)
	Transports   []string // default http, ws, grpc
	Clients      []string // default all: raw, naive, owned, borrowed, tail, node, node-raw
	Peers        string   // directory of the Node peers and their node_modules (PeerRunners); "": their rows are skipped
	Tail         TailFunc // the CLI's tail; nil: no tail row
	TailOut      string   // where tail's stdout goes (default os.DevNull)
	ProfileDir   string   // if set: after the rounds, one more pass per row under the CPU profiler, to DIR/TRANSPORT-CLIENT.pprof, and the mock's own profile to DIR/mock.pprof
	NoThroughput bool     // skip the table: only the memory checks (with Memory)
	Memory       bool     // also run the memory checks
	MemoryEvents int64    // events of the flatness run (default 10,000,000)
	SlowFor      time.Duration
	Seed         int64
	ChildArgs    []string  // arguments that make this binary reach ServeChildIfRequested
	Progress     io.Writer // progress lines (nil: none)
}

func (c *Config) defaults() {
	if c.Events <= 0 {
		c.Events = DefaultEvents
	}
	if c.ShortEvents <= 0 {
		c.ShortEvents = DefaultShortEvents
	}
	if c.Rounds <= 0 {
		c.Rounds = DefaultRounds
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{HTTP, WS, WSUnbatched, GRPC}
	}
	if c.MemoryEvents <= 0 {
		c.MemoryEvents = DefaultMemoryEvents
	}
	if c.SlowFor <= 0 {
		c.SlowFor = 5 * time.Second
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

// Row is the figures of one runner.
type Row struct {
	Transport string
	Client    string
	Samples   []Sample
	Skipped   string // why the row did not run
	Err       string // why it stopped (an incorrect or failed pass)
	Profile   string // CPU profile file, if any
}

// Report is the outcome of Run.
type Report struct {
	Machine     string
	Events      int64
	Bytes       int64
	ShortEvents int64 // what the Short rows read (0: the whole history)
	Rounds      int
	Peers       string // the peers' runtime and packages, when a peer row ran ("Node v20…, ws 8…")
	Rows        []*Row
	Memory      *MemoryReport
	Took        time.Duration
}

// Row returns the row of transport/client, or nil.
func (r *Report) Row(transport, client string) *Row {
	for _, row := range r.Rows {
		if row.Transport == transport && row.Client == client {
			return row
		}
	}
	return nil
}

// Run starts the mock in a child process, measures every row over
// cfg.Rounds alternating rounds, optionally profiles and runs the memory
// checks, and stops the mock on every path out.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	start := time.Now()
	rep := &Report{Machine: Machine(), Rounds: cfg.Rounds}
	var err error
	if cfg.NoThroughput {
		if cfg.Memory {
			rep.Memory, err = RunMemory(ctx, cfg)
		}
		rep.Took = time.Since(start)
		return rep, err
	}

	fmt.Fprintf(cfg.Progress, "starting the mock (%d events of history) ...\n", cfg.Events)
	spec := MockSpec{History: cfg.Events, Span: DefaultSpan, Seed: cfg.Seed, Prefix: cfg.ShortEvents}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
		if spec.CPUProfile, err = filepath.Abs(filepath.Join(cfg.ProfileDir, "mock.pprof")); err != nil {
			return nil, err
		}
	}
	m, err := StartMock(ctx, spec, cfg.ChildArgs...)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	rep.Events, rep.Bytes = m.Expect.Events, m.Expect.Bytes
	if m.Expect.Prefix != nil {
		rep.ShortEvents = m.Expect.Prefix.Events
	}
	fmt.Fprintf(cfg.Progress, "mock at %s: %d events, %.1f MB, %d distinct uids\n", m.URL, m.Expect.Events, float64(m.Expect.Bytes)/1e6, m.Expect.UIDs)

	var active []*Runner
	rows := map[*Runner]*Row{}
	for _, r := range runners(cfg) {
		if len(cfg.Clients) > 0 && !slices.Contains(cfg.Clients, r.Client) {
			continue
		}
		row := &Row{Transport: r.Transport, Client: r.Client}
		if r.Peer && rep.Peers == "" {
			rep.Peers = PeerVersions(cfg.Peers)
		}
		rep.Rows = append(rep.Rows, row)
		rows[r] = row
		if err := r.Probe(ctx, m, 20_000); err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			if r.Transport == HTTP {
				return rep, fmt.Errorf("benchrun: %w", errors.Unwrap(err))
			}
			row.Skipped = oneLine(errors.Unwrap(err).Error())
			fmt.Fprintf(cfg.Progress, "%-14s skipped: %s\n", r.Name(), row.Skipped)
			continue
		}
		active = append(active, r)
	}

	for round := range cfg.Rounds {
		// Alternate: every round visits every row, starting one further on.
		for i := range active {
			r := active[(i+round)%len(active)]
			row := rows[r]
			if row.Err != "" {
				continue
			}
			s, err := r.Measure(ctx, m)
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			if err != nil {
				row.Err = oneLine(err.Error())
				fmt.Fprintf(cfg.Progress, "round %d/%d %-14s FAILED: %s\n", round+1, cfg.Rounds, r.Name(), row.Err)
				continue
			}
			row.Samples = append(row.Samples, s)
			fmt.Fprintf(cfg.Progress, "round %d/%d %-14s %10.0f ev/s %7.3f µs/ev %6s allocs/ev\n",
				round+1, cfg.Rounds, r.Name(), s.EventsPerSec(), s.CPUPerEvent(), fmtAllocs(s.AllocsPerEvent()))
		}
	}

	if cfg.ProfileDir != "" {
		for _, r := range active {
			row := rows[r]
			if row.Err != "" {
				continue
			}
			if r.Peer {
				fmt.Fprintf(cfg.Progress, "not profiled %-14s (a peer process: see bench/peers/README.md)\n", r.Name())
				continue
			}
			path := filepath.Join(cfg.ProfileDir, r.Transport+"-"+r.Client+".pprof")
			if err := profilePass(ctx, r, m, path); err != nil {
				return rep, err
			}
			row.Profile = path
			fmt.Fprintf(cfg.Progress, "profiled %-14s -> %s\n", r.Name(), path)
		}
	}
	m.Close()

	if cfg.Memory {
		mr, err := RunMemory(ctx, cfg)
		rep.Memory = mr
		if err != nil {
			return rep, err
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// runners is every row of cfg's transports, the peers' after the Go rows
// of their transport.
func runners(cfg Config) []*Runner {
	rs := append(Runners(cfg.Transports, cfg.Tail, cfg.TailOut), PeerRunners(cfg.Transports, cfg.Peers)...)
	slices.SortStableFunc(rs, func(a, b *Runner) int {
		return slices.Index(cfg.Transports, a.Transport) - slices.Index(cfg.Transports, b.Transport)
	})
	return rs
}

// profilePass runs one more pass of r under the CPU profiler.
func profilePass(ctx context.Context, r *Runner, m *Mock, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	_, err = r.Measure(ctx, m)
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	return f.Close()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Machine describes this machine in one line.
func Machine() string {
	model := ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	s := fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	if model != "" {
		s = model + ", " + s
	}
	return s
}
