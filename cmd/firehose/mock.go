package main

import (
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/firehose-go/firehose/firehosetest"
)

const mockAbout = `Serve a mock Cisco Spaces Partner Firehose (HTTP NDJSON, WebSocket and gRPC) until
SIGINT or SIGTERM. Its event log is deterministic: the same seed, history and
rate give the same events. Faults can be switched on to watch a client cope.
It listens on loopback unless --addr names another address (then anyone who
can reach it can read it: a warning goes to stderr).

A client resumes a cut connection from its watermark less the replay margin
(10 s). Cuts closer than margin x rate events apart (10 s x --rate: 100 events
at the default 10/s) only ever replay what was already delivered: the client
halves its margin and reports a possible gap (README "Limits worth knowing").
So --chaos N and --cut-every N with N below 10 x --rate report real gaps;
at or above it, a client must deliver every event exactly once.`

// mockScriptLen is how many connection attempts the per-connection fault
// flags cover; later attempts are served without faults.
const mockScriptLen = 4096

type mockConfig struct {
	addr        string
	seed        int64
	history     int
	span        time.Duration
	rate        float64
	keepAlive   time.Duration
	key         string
	tls, http2  bool
	unknown     bool
	cutEvery    int
	duplicates  int
	chaos       int
	statusFirst int
	retryAfter  int
}

func (c *mockConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0 picks a free one)")
	fs.Int64Var(&c.seed, "seed", firehosetest.DefaultSeed, "seed of the event log")
	fs.IntVar(&c.history, "history", 10000, "events in the log before the start (replayed with tail --from)")
	fs.DurationVar(&c.span, "span", 30*time.Minute, "the history is spread evenly over this span, ending at the start")
	fs.Float64Var(&c.rate, "rate", 10, "live events per second, `EV/S`, after the start (0: none)")
	fs.DurationVar(&c.keepAlive, "keepalive", firehosetest.DefaultKeepAlive, "silence before a KEEP_ALIVE is sent (0: never)")
	fs.StringVar(&c.key, "key", firehosetest.DefaultAPIKey, "the API `KEY` the server accepts (empty: any)")
	fs.BoolVar(&c.tls, "tls", false, "serve HTTPS with a self-signed certificate (written to a file for tail --ca)")
	fs.BoolVar(&c.http2, "http2", false, "offer HTTP/2 (implies --tls)")
	fs.BoolVar(&c.unknown, "unknown-types", false, "mix events of a type the client does not know into the log")
	fs.IntVar(&c.cutEvery, "cut-every", 0, "cut every connection in the middle of a line after `N` events\n(N below 10 x --rate exceeds the replay margin: the client reports gaps)")
	fs.IntVar(&c.duplicates, "duplicates", 0, "on every connection, re-send the last `K` events once (at the cut, or after K events)")
	fs.IntVar(&c.chaos, "chaos", 0, "give every connection a random fault around every `N` events (cuts, duplicates, malformed lines)\n"+
		"(N below 10 x --rate, 100 at the default rate, exceeds the replay margin: the client reports real gaps)")
	fs.IntVar(&c.statusFirst, "status-first", 0, "refuse the first connection attempt with this HTTP status `CODE`")
	fs.IntVar(&c.retryAfter, "retry-after", 0, "with --status-first, send Retry-After: `S` seconds")
}

// options turns the command line into server options; an error is a usage
// error.
func (c *mockConfig) options() ([]firehosetest.Option, error) {
	switch {
	case c.history < 0:
		return nil, fmt.Errorf("--history %d: want >= 0", c.history)
	case c.span < 0:
		return nil, fmt.Errorf("--span %v: want >= 0", c.span)
	case c.rate < 0:
		return nil, fmt.Errorf("--rate %v: want >= 0", c.rate)
	case c.keepAlive < 0:
		return nil, fmt.Errorf("--keepalive %v: want >= 0", c.keepAlive)
	case c.cutEvery < 0 || c.duplicates < 0 || c.chaos < 0:
		return nil, errors.New("--cut-every, --duplicates and --chaos want counts >= 0")
	case c.chaos > 0 && (c.cutEvery > 0 || c.duplicates > 0):
		return nil, errors.New("--chaos and --cut-every/--duplicates are mutually exclusive")
	case c.statusFirst != 0 && (c.statusFirst < 100 || c.statusFirst > 599 || c.statusFirst == 200):
		return nil, fmt.Errorf("--status-first %d: want an HTTP status other than 200", c.statusFirst)
	case c.retryAfter < 0:
		return nil, fmt.Errorf("--retry-after %d: want seconds >= 0", c.retryAfter)
	case c.retryAfter > 0 && c.statusFirst == 0:
		return nil, errors.New("--retry-after needs --status-first")
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return nil, fmt.Errorf("--addr %q: %v", c.addr, err)
	}
	opts := []firehosetest.Option{
		firehosetest.WithSeed(c.seed),
		firehosetest.WithHistory(c.history, c.span),
		firehosetest.WithRate(c.rate),
		firehosetest.WithKeepAlive(c.keepAlive),
		firehosetest.WithAPIKey(c.key),
		firehosetest.WithUnknownTypes(c.unknown),
	}
	if c.tls {
		opts = append(opts, firehosetest.WithTLS())
	}
	if c.http2 {
		opts = append(opts, firehosetest.WithHTTP2())
	}
	if s := c.script(); len(s) > 0 {
		opts = append(opts, firehosetest.WithScript(s...))
	}
	if c.chaos > 0 {
		opts = append(opts, firehosetest.WithChaos(c.seed, c.chaos))
	}
	return opts, nil
}

// marginEvents is how many events the client's default replay margin
// covers at the mock's rate: cuts closer than that report gaps.
func (c *mockConfig) marginEvents() int {
	return int(10 * c.rate)
}

// warnings says what in the command line deserves a second look.
func (c *mockConfig) warnings() []string {
	var out []string
	host, _, _ := net.SplitHostPort(c.addr)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		out = append(out, fmt.Sprintf("--addr %s is not loopback: anyone who can reach this host can read the mock (and see the keys clients send)", c.addr))
	}
	m := c.marginEvents()
	for _, f := range []struct {
		name string
		n    int
	}{{"--chaos", c.chaos}, {"--cut-every", c.cutEvery}} {
		if f.n > 0 && f.n < m {
			out = append(out, fmt.Sprintf("%s %d cuts more often than the replay margin covers (10 s x %g events/s = %d events): clients will report real gaps", f.name, f.n, c.rate, m))
		}
	}
	return out
}

// script is the fault plan of the first connection attempts.
func (c *mockConfig) script() []firehosetest.Conn {
	var s []firehosetest.Conn
	if c.statusFirst != 0 {
		first := firehosetest.Conn{Status: c.statusFirst}
		if c.retryAfter > 0 {
			first.RetryAfter = strconv.Itoa(c.retryAfter)
		}
		s = append(s, first)
	}
	if c.cutEvery > 0 || c.duplicates > 0 {
		each := firehosetest.Conn{Duplicates: c.duplicates}
		if c.cutEvery > 0 {
			each.After, each.Action = c.cutEvery, firehosetest.CutMidLine
		} else {
			each.After = c.duplicates
		}
		for range mockScriptLen {
			s = append(s, each)
		}
	}
	return s
}

func runMock(ctx context.Context, e *env, args []string) int {
	var c mockConfig
	fs := e.newFlagSet("mock", "[flags]", mockAbout)
	c.flags(fs)
	if code := e.parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageError("mock", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	opts, err := c.options()
	if err != nil {
		return e.usageError("mock", err.Error())
	}
	for _, w := range c.warnings() {
		fmt.Fprintf(e.stderr, "firehose mock: warning: %s\n", w)
	}
	srv, err := startMock(c.addr, opts)
	if err != nil {
		fmt.Fprintf(e.stderr, "firehose mock: %v\n", err)
		return exitFatal
	}
	defer srv.Close()

	var caFlag string
	if c.tls || c.http2 {
		path, err := writeCA(srv)
		if err != nil {
			fmt.Fprintf(e.stderr, "firehose mock: %v\n", err)
			return exitFatal
		}
		defer os.Remove(path)
		caFlag = " --ca " + path
		fmt.Fprintf(e.stdout, "ca:       %s (the certificate names 127.0.0.1, ::1 and localhost)\n", path)
	}
	key, shown := c.key, c.key
	if key == "" {
		key, shown = "any", "(any: the key is not checked)"
	}
	fmt.Fprintf(e.stdout, "endpoint: %s\n", srv.URL)
	fmt.Fprintf(e.stdout, "key:      %s\n", shown)
	from := ""
	if c.history > 0 {
		from = " --from " + (c.span + time.Minute).String()
	}
	fmt.Fprintf(e.stdout, "try:      firehose tail --endpoint %s --key %s%s%s\n", srv.URL, key, caFlag, from)
	if f, ok := e.stdout.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "firehose mock: stopping")
	return exitOK
}

// writeCA saves the server's self-signed certificate as PEM in a temporary
// file, for tail --ca.
func writeCA(srv *mockServer) (string, error) {
	f, err := os.CreateTemp("", "firehose-mock-*.pem")
	if err != nil {
		return "", err
	}
	err = pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
