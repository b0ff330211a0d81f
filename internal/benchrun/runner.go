package benchrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"time"

	"github.com/firehose-go/firehose"
)

// Runner is one row of the table: one client on one transport.
type Runner struct {
	Transport string
	Client    string
	run       runFunc
	// Short rows (naive, and gRPC whose mock renders every record through
	// protojson) read the history's prefix when the mock has one.
	Short bool
	// Peer rows run another stack's client as a process of its own (see
	// PeerRunners): their CPU and wall time are that process's.
	Peer bool
}

// Name is "transport/client".
func (r *Runner) Name() string { return r.Transport + "/" + r.Client }

// IsSDK reports whether the row runs this SDK (directly or through the CLI).
func (r *Runner) IsSDK() bool { return r.Client == Owned || r.Client == Borrowed || r.Client == Tail }

// Runners returns the rows for transports, in table order: raw, naive, owned,
// borrowed, and tail (HTTP and gRPC, when tail is not nil). gRPC has no naive
// row: there is no JSON to decode naively. tailOut opens tail's stdout for a pass.
func Runners(transports []string, tail TailFunc, tailOut string) []*Runner {
	var rs []*Runner
	add := func(t, c string, f runFunc) {
		rs = append(rs, &Runner{Transport: t, Client: c, run: f, Short: c == Naive || t == GRPC})
	}
	for _, t := range transports {
		switch t {
		case HTTP:
			add(t, Raw, httpRaw)
			add(t, Naive, httpNaive)
			add(t, Owned, sdkOwned(firehose.TransportHTTP))
			add(t, Borrowed, sdkBorrowed(firehose.TransportHTTP))
			if tail != nil {
				add(t, Tail, tailRun(tail, HTTP, fileOut(tailOut)))
			}
		case WS:
			add(t, Raw, wsRaw)
			add(t, Naive, wsNaive)
			add(t, Owned, sdkOwned(firehose.TransportWebSocket))
			add(t, Borrowed, sdkBorrowed(firehose.TransportWebSocket))
		case WSUnbatched:
			add(t, Raw, unbatched(wsRaw))
			add(t, Owned, unbatched(sdkOwned(firehose.TransportWebSocket)))
			add(t, Borrowed, unbatched(sdkBorrowed(firehose.TransportWebSocket)))
		case GRPC:
			add(t, Raw, grpcRaw)
			add(t, Owned, sdkOwned(firehose.TransportGRPC))
			add(t, Borrowed, sdkBorrowed(firehose.TransportGRPC))
			if tail != nil {
				// The CLI's tail renders the HTTP channel's JSON for every
				// event: the row a user of `tail --transport grpc` sees.
				add(t, Tail, tailRun(tail, GRPC, fileOut(tailOut)))
			}
		}
	}
	return rs
}

// fileOut opens path (default os.DevNull) for writing, truncated.
func fileOut(path string) func() (io.Writer, func() error, error) {
	if path == "" {
		path = os.DevNull
	}
	return func() (io.Writer, func() error, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, nil, err
		}
		return f, f.Close, nil
	}
}

// Sample is one measured pass.
type Sample struct {
	Wall    time.Duration
	CPU     time.Duration // user + system of this process (getrusage RUSAGE_SELF); a peer's: of its process, start-up excluded
	Mallocs uint64        // runtime.MemStats.Mallocs delta (not counted for a peer)
	Events  int64
	Bytes   int64 // NDJSON-equivalent bytes of the events (the log's lines and newlines)
	// Peer: the pass ran in a peer's process (Runner.Peer). StartCPU is
	// the CPU that process spent before it connected (loading its modules),
	// which CPU leaves out.
	Peer     bool
	StartCPU time.Duration
}

// EventsPerSec is events per wall-clock second.
func (s Sample) EventsPerSec() float64 { return float64(s.Events) / s.Wall.Seconds() }

// MBPerSec is NDJSON-equivalent megabytes (10^6) per second.
func (s Sample) MBPerSec() float64 { return float64(s.Bytes) / 1e6 / s.Wall.Seconds() }

// CPUPerEvent is the client's CPU time per event, in microseconds.
func (s Sample) CPUPerEvent() float64 {
	return float64(s.CPU.Nanoseconds()) / 1e3 / float64(s.Events)
}

// AllocsPerEvent is heap allocations per event (NaN for a peer: not
// counted in another process).
func (s Sample) AllocsPerEvent() float64 {
	if s.Peer {
		return math.NaN()
	}
	return float64(s.Mallocs) / float64(s.Events)
}

// Add accumulates o into s.
func (s *Sample) Add(o Sample) {
	s.Wall += o.Wall
	s.CPU += o.CPU
	s.Mallocs += o.Mallocs
	s.Events += o.Events
	s.Bytes += o.Bytes
	s.Peer = s.Peer || o.Peer
	s.StartCPU += o.StartCPU
}

// IsSkip reports whether err means the row cannot run here (its pass failed
// its probe, or the mock lacks what the row needs, such as the unbatched relay).
func IsSkip(err error) bool {
	var s *errSkip
	return errors.As(err, &s)
}

// Measure runs one checked pass over the mock's whole history: a GC first,
// then the client, timed and metered. A pass that does not deliver every
// event of the history exactly once is an error.
func (r *Runner) Measure(ctx context.Context, m *Mock) (Sample, error) {
	e := r.expect(m)
	return r.measure(ctx, m, e, e.Events, true)
}

// expect is what a pass of r must deliver: the whole history, or its prefix
// for a Short row.
func (r *Runner) expect(m *Mock) Expected {
	if r.Short && m.Expect.Prefix != nil {
		return *m.Expect.Prefix
	}
	return m.Expect
}

func (r *Runner) measure(ctx context.Context, m *Mock, e Expected, n int64, check bool) (Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute+time.Duration(n)*50*time.Microsecond)
	defer cancel()
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	u0, s0 := cpuTime()
	t0 := time.Now()
	res, err := r.run(ctx, m, n)
	wall := time.Since(t0)
	u1, s1 := cpuTime()
	runtime.ReadMemStats(&b)
	s := Sample{
		Wall:    wall,
		CPU:     time.Duration(u1 - u0 + s1 - s0),
		Mallocs: b.Mallocs - a.Mallocs,
		Events:  res.events,
		Bytes:   e.Bytes * res.events / max(e.Events, 1),
	}
	if res.peer {
		// The client ran in its own process: its figures, not ours.
		s.Wall, s.CPU, s.Mallocs = res.wall, res.cpu, 0
		s.Peer, s.StartCPU = true, res.startCPU
	}
	if err != nil {
		return s, r.classify(err)
	}
	if check {
		err = r.check(res, e)
	}
	return s, err
}

// classify turns the errors of a transport nobody serves yet into skips.
func (r *Runner) classify(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: timed out: %w", r.Name(), err)
	}
	return fmt.Errorf("%s: %w", r.Name(), err)
}

// check verifies a pass: every event of the log counted exactly once.
func (r *Runner) check(res result, e Expected) error {
	var err error
	switch {
	case res.events != e.Events:
		err = fmt.Errorf("counted %d events, the log has %d", res.events, e.Events)
	case res.digest && (res.xor != e.XOR || res.sum != e.Sum):
		err = errors.New("the events delivered are not the log's (fingerprint digest differs)")
	case res.bytes != 0 && res.bytes != e.Bytes && r.Transport != GRPC:
		err = fmt.Errorf("read %d bytes, the log has %d", res.bytes, e.Bytes)
	case r.Client == Naive && res.delivered != e.UIDs:
		err = fmt.Errorf("naive delivered %d events, expected %d (the distinct recordUids)", res.delivered, e.UIDs)
	}
	if err != nil {
		return fmt.Errorf("%s: incorrect: %w", r.Name(), err)
	}
	return nil
}

// Probe runs a short unchecked pass (n events) to see whether the row can run
// here; the error (if any) says why not. It also warms the row up.
func (r *Runner) Probe(ctx context.Context, m *Mock, n int64) error {
	e := r.expect(m)
	n = min(n, e.Events)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := r.measure(ctx, m, e, n, false)
	if err != nil {
		var skip *errSkip
		if errors.As(err, &skip) { // the row knew it could not run: its own reason
			return skip
		}
		return &errSkip{reason: err}
	}
	return nil
}
