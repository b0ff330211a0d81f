package benchrun

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/firehose-go/firehose/firehosetest"
)

// ChildEnv is the hidden environment variable that turns the current binary
// into the benchmark's mock server: StartMock re-executes os.Executable()
// with it set, and the child serves firehosetest until its stdin closes.
// Its value is the MockSpec, encoded by MockSpec.encode.
const ChildEnv = "FIREHOSE_BENCH_CHILD"

// ChildRequested reports whether this process was started by StartMock.
func ChildRequested() bool {
	_, ok := os.LookupEnv(ChildEnv)
	return ok
}

// ServeChildIfRequested serves the mock and exits the process when this
// process was started by StartMock; otherwise it returns at once. Call it
// first thing in TestMain (or before anything else in a command).
func ServeChildIfRequested() {
	if !ChildRequested() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ServeChild(ctx, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// MockSpec is what the child mock serves.
type MockSpec struct {
	History int           // events in the log before the start (replayed from Expected.From)
	Span    time.Duration // the history's span, ending at the start
	Rate    float64       // live events per second after the start (0: none)
	Seed    int64
	// Prefix, if > 0, also digests the first Prefix events (Expected.Prefix):
	// slow rows read only those.
	Prefix int
	// CPUProfile, if set, is where the child writes a CPU profile of the mock
	// (from its start to its exit): to see whether the mock bounds a row.
	CPUProfile string
}

func (s MockSpec) encode() string {
	v := fmt.Sprintf("history=%d,span=%s,rate=%g,seed=%d,prefix=%d", s.History, s.Span, s.Rate, s.Seed, s.Prefix)
	if s.CPUProfile != "" {
		v += ",cpuprofile=" + s.CPUProfile
	}
	return v
}

func parseSpec(v string) (MockSpec, error) {
	var s MockSpec
	for f := range strings.SplitSeq(v, ",") {
		if f == "" {
			continue
		}
		k, val, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "history":
			s.History, err = strconv.Atoi(val)
		case "span":
			s.Span, err = time.ParseDuration(val)
		case "rate":
			s.Rate, err = strconv.ParseFloat(val, 64)
		case "seed":
			s.Seed, err = strconv.ParseInt(val, 10, 64)
		case "prefix":
			s.Prefix, err = strconv.Atoi(val)
		case "cpuprofile":
			s.CPUProfile = val
		default:
			err = errors.New("unknown key")
		}
		if err != nil {
			return s, fmt.Errorf("benchrun: bad %s %q: %v", ChildEnv, f, err)
		}
	}
	return s, nil
}

// Expected describes the history the child serves, computed from its Log:
// what a correct client must deliver.
type Expected struct {
	Events int64  // events in the history
	Bytes  int64  // their NDJSON size, newlines included
	XOR    uint64 // XOR of fingerprint(recordUid, recordTimestamp) over the history
	Sum    uint64 // sum of the same fingerprints (mod 2^64)
	UIDs   int64  // distinct recordUids (what a client deduplicating on the uid alone delivers)
	From   int64  // the oldest recordTimestamp: fromTimestamp to replay it all
	// Prefix is the same for the first MockSpec.Prefix events of the stream
	// (nil when not asked for); its From is the whole history's.
	Prefix *Expected `json:",omitempty"`
}

// hello is the child's first line on stdout.
type hello struct {
	URL string `json:"url"`
	// UnbatchedURL reaches the same server through a relay that writes
	// every WebSocket frame with its own write(2) (see splitter).
	UnbatchedURL string   `json:"unbatchedUrl"`
	Expect       Expected `json:"expect"`
}

// ServeChild is the child's side: it serves the spec read from ChildEnv on
// loopback, prints one JSON line (the URL and the Expected digest) on stdout,
// and serves until stdin reaches EOF (the parent closed it or died) or ctx
// ends. It returns the process's exit code.
func ServeChild(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
	spec, err := parseSpec(os.Getenv(ChildEnv))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	opts := []firehosetest.Option{
		firehosetest.WithSeed(spec.Seed),
		firehosetest.WithReplayWindow(0), // the whole history stays available however long the bench runs
	}
	if spec.History > 0 {
		opts = append(opts, firehosetest.WithHistory(spec.History, spec.Span))
	}
	if spec.Rate > 0 {
		opts = append(opts, firehosetest.WithRate(spec.Rate))
	}
	if spec.CPUProfile != "" {
		f, err := os.Create(spec.CPUProfile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	srv := firehosetest.NewServer(opts...)
	defer srv.Close()

	h := hello{URL: srv.URL}
	if host, ok := strings.CutPrefix(srv.URL, "http://"); ok {
		sp, err := startSplitter(host)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer sp.close()
		h.UnbatchedURL = "http://" + sp.addr()
	}
	if spec.History > 0 {
		h.Expect = digestLog(srv.Log(), spec.History, spec.Prefix)
	}
	b, _ := json.Marshal(h)
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		return 1
	}
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	return 0
}

// digestLog computes Expected over the first n events of the log (and over
// the first prefix ones, if prefix > 0), one partition at a time so that the
// lines never all sit in memory at once. The history is served in index
// order from its oldest timestamp, so the first k events served are the
// events of index < k.
func digestLog(l *firehosetest.Log, n, prefix int) Expected {
	var e, pe Expected
	uids := make(map[string]struct{}, n)
	puids := make(map[string]struct{}, max(prefix, 0))
	e.From = int64(^uint64(0) >> 1)
	add := func(e *Expected, ev *firehosetest.Event, uids map[string]struct{}) {
		fp := fingerprint(ev.UID, ev.Timestamp)
		e.Events++
		e.Bytes += int64(len(ev.Line)) + 1
		e.XOR ^= fp
		e.Sum += fp
		uids[ev.UID] = struct{}{}
	}
	for p := 1; p <= firehosetest.NumPartitions; p++ {
		for _, ev := range l.Events(p, p) {
			if ev.Index >= n {
				continue // a live event (none without a rate)
			}
			add(&e, &ev, uids)
			if ev.Index < prefix {
				add(&pe, &ev, puids)
			}
			e.From = min(e.From, ev.Timestamp)
		}
	}
	e.UIDs = int64(len(uids))
	if prefix > 0 && prefix < n {
		pe.UIDs, pe.From = int64(len(puids)), e.From
		e.Prefix = &pe
	}
	return e
}

// Mock is a firehosetest server running in a child process.
type Mock struct {
	URL string
	// UnbatchedURL is the same server behind a relay that writes every
	// WebSocket frame with its own write(2).
	UnbatchedURL string
	Key          string
	Expect       Expected
	Spec         MockSpec

	cmd       *exec.Cmd
	stdin     io.WriteCloser
	done      chan struct{}
	closeOnce sync.Once
	stderr    *tailBuffer
}

// StartMock re-executes the current binary (os.Executable) with ChildEnv set
// and args, waits for its hello line, and returns the running mock. The child
// runs in its own process group; Close (and ctx's end) stop it. args are what
// the binary needs to reach ServeChildIfRequested: none for a test binary
// (TestMain), the subcommand for the CLI.
func StartMock(ctx context.Context, spec MockSpec, args ...string) (*Mock, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("benchrun: finding the executable: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), ChildEnv+"="+spec.encode())
	setProcessGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = 2 * time.Second
	m := &Mock{cmd: cmd, Key: firehosetest.DefaultAPIKey, Spec: spec, done: make(chan struct{}), stderr: &tailBuffer{max: 4 << 10}}
	cmd.Stderr = m.stderr
	if m.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	// An os.Pipe of our own rather than StdoutPipe: Wait, which runs
	// concurrently below, must not close the reader under us.
	out, pw, err := os.Pipe()
	if err != nil {
		m.stdin.Close()
		return nil, err
	}
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		out.Close()
		m.stdin.Close()
		return nil, fmt.Errorf("benchrun: starting the mock: %w", err)
	}
	go func() {
		cmd.Wait()
		close(m.done)
	}()
	line := make(chan []byte, 1)
	go func() {
		defer out.Close()
		l, _ := bufio.NewReader(out).ReadBytes('\n')
		line <- l
		io.Copy(io.Discard, out) // keep the pipe drained until the child exits
	}()
	var l []byte
	select {
	case l = <-line:
	case <-time.After(2 * time.Minute):
	case <-ctx.Done():
	}
	var h hello
	if len(l) == 0 || json.Unmarshal(l, &h) != nil || h.URL == "" {
		m.Close()
		return nil, fmt.Errorf("benchrun: the mock did not start (stderr: %q)", m.stderr.String())
	}
	m.URL, m.UnbatchedURL, m.Expect = h.URL, h.UnbatchedURL, h.Expect
	return m, nil
}

// Close stops the child: it closes its stdin (the child then shuts down),
// and kills its process group if it has not exited within two seconds. It
// waits for the child and is safe to call more than once.
func (m *Mock) Close() {
	m.closeOnce.Do(func() {
		m.stdin.Close()
		select {
		case <-m.done:
		case <-time.After(2 * time.Second):
			killGroup(m.cmd)
			<-m.done
		}
	})
}

// Exited reports whether the child process has exited.
func (m *Mock) Exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// eventsURL is the NDJSON URL with fromTimestamp set to replay the history.
func (m *Mock) eventsURL(scheme string) string {
	u := m.URL + firehosetest.EventsPath
	if scheme != "" {
		_, rest, _ := strings.Cut(u, "://")
		u = scheme + "://" + rest
	}
	if m.Expect.From > 0 {
		u += "?fromTimestamp=" + strconv.FormatInt(m.Expect.From, 10)
	}
	return u
}

// hostPort is the mock's address, for gRPC.
func (m *Mock) hostPort() string {
	_, rest, _ := strings.Cut(m.URL, "://")
	return rest
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
