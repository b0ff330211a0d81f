package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/firehose-go/firehose"
)

const tailAbout = `Print every event of the firehose on stdout, one JSON line each, exactly as
received: no event lost across disconnects, none printed twice, no keep-alives.
A status line goes to stderr. Stops after --count events, after --duration, on
SIGINT or SIGTERM (exit 0), or on a fatal error such as a wrong key (exit 1).

The key is read from --key or $FIREHOSE_API_KEY and never printed.`

// tailConfig is tail's parsed command line.
type tailConfig struct {
	endpoint, region string
	key              string
	transport        string
	partitions       string
	receiver         string
	from             string
	checkpoint       string
	ca               string
	idle             time.Duration
	count            int64
	duration         time.Duration
	quiet            bool
}

func (c *tailConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.endpoint, "endpoint", "", "server `URL`; /api/partners/v1/firehose/events is appended when it has no path\n(default "+firehose.DefaultEndpoint+")")
	fs.StringVar(&c.region, "region", "", "Cisco `REGION`: io, eu or sg (instead of --endpoint)")
	fs.StringVar(&c.key, "key", "", "API `KEY` (default $FIREHOSE_API_KEY)")
	fs.StringVar(&c.transport, "transport", "http", "`CHANNEL`: http, ws or grpc")
	fs.StringVar(&c.partitions, "partitions", "", "partition range `MIN-MAX` (default 1-12)")
	fs.StringVar(&c.receiver, "receiver", "", "be receiver `I/N`: I (0-based) of N, see 'firehose plan N' (instead of --partitions)")
	fs.StringVar(&c.from, "from", "", "replay from `WHEN`: epoch milliseconds, RFC 3339, or a duration ago such as 10m (default: live)")
	fs.StringVar(&c.checkpoint, "checkpoint", "", "keep the position in `FILE`: resume from it, save it every second and on exit\n(wins over --from once it exists)")
	fs.StringVar(&c.ca, "ca", "", "trust the PEM certificates in `FILE` (a private or mock TLS server)")
	fs.DurationVar(&c.idle, "idle-timeout", 0, "reconnect after this much silence (default 45s)")
	fs.Int64Var(&c.count, "count", 0, "exit after `N` events (default: no limit)")
	fs.DurationVar(&c.duration, "duration", 0, "exit after this long (default: no limit)")
	fs.BoolVar(&c.quiet, "quiet", false, "no status line on stderr")
}

// options turns the command line into client options; an error is a usage
// error (exit 2).
func (c *tailConfig) options(now time.Time) ([]firehose.Option, error) {
	var opts []firehose.Option
	switch {
	case c.endpoint != "" && c.region != "":
		return nil, errors.New("--endpoint and --region are mutually exclusive")
	case c.endpoint != "":
		opts = append(opts, firehose.WithEndpoint(c.endpoint))
	case c.region != "":
		opts = append(opts, firehose.WithRegion(firehose.Region(c.region)))
	}
	if c.key == "" {
		return nil, errors.New("no API key: pass --key or set FIREHOSE_API_KEY")
	}
	opts = append(opts, firehose.WithAPIKey(c.key))
	switch t := firehose.Transport(c.transport); t {
	case firehose.TransportHTTP, firehose.TransportWebSocket, firehose.TransportGRPC:
		opts = append(opts, firehose.WithTransport(t))
	default:
		return nil, fmt.Errorf("--transport %q: want http, ws or grpc", c.transport)
	}
	switch {
	case c.partitions != "" && c.receiver != "":
		return nil, errors.New("--partitions and --receiver are mutually exclusive")
	case c.partitions != "":
		r, err := firehose.ParseRange(c.partitions)
		if err != nil {
			return nil, fmt.Errorf("--partitions: %w", err)
		}
		opts = append(opts, firehose.WithPartitions(r.Min, r.Max))
	case c.receiver != "":
		i, n, err := parseReceiver(c.receiver)
		if err != nil {
			return nil, err
		}
		opts = append(opts, firehose.WithReceiver(i, n))
	}
	if c.from != "" {
		ms, err := parseFrom(c.from, now)
		if err != nil {
			return nil, err
		}
		opts = append(opts, firehose.WithStartMillis(ms))
	}
	if c.idle != 0 {
		opts = append(opts, firehose.WithIdleTimeout(c.idle))
	}
	if c.ca != "" {
		cfg, err := loadCA(c.ca)
		if err != nil {
			return nil, err
		}
		opts = append(opts, firehose.WithTLSConfig(cfg))
	}
	if c.count < 0 {
		return nil, fmt.Errorf("--count %d: want >= 0", c.count)
	}
	if c.duration < 0 {
		return nil, fmt.Errorf("--duration %v: want >= 0", c.duration)
	}
	return opts, nil
}

// checkpointOptions returns the options that keep the stream's position in
// the file at path: loaded before the first connection, saved every second
// and on exit. stdout is flushed before each save, so a checkpoint never runs
// ahead of what was printed.
func checkpointOptions(path string, out *output) []firehose.Option {
	return []firehose.Option{
		firehose.WithCheckpointer(firehose.NewFileCheckpointer(path)),
		firehose.WithPreSave(out.flush),
	}
}

// parseReceiver parses "I/N": receiver I (0-based) of N.
func parseReceiver(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		i, err = strconv.Atoi(a)
		if err == nil {
			n, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("--receiver %q: want I/N, such as 0/4", s)
	}
	if _, err := firehose.Receiver(i, n); err != nil {
		return 0, 0, fmt.Errorf("--receiver %q: %w", s, err)
	}
	return i, n, nil
}

// parseFrom reads --from: epoch milliseconds, an RFC 3339 time, or a duration
// ago ("10m", "1h30m"). It returns epoch milliseconds; "0" means live.
func parseFrom(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case ms == 0:
			return 0, nil
		case ms < 0:
			return 0, fmt.Errorf("--from %q: want epoch milliseconds >= 0", s)
		case ms < 1e11: // before 1973: almost surely seconds
			return 0, fmt.Errorf("--from %q: want epoch milliseconds; this looks like seconds (try %s000)", s, s)
		case ms > now.Add(time.Minute).UnixMilli():
			return 0, fmt.Errorf("--from %q: in the future", s)
		}
		return ms, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if t.After(now.Add(time.Minute)) {
			return 0, fmt.Errorf("--from %q: in the future", s)
		}
		if t.UnixMilli() < 1 {
			return 0, fmt.Errorf("--from %q: before 1970", s)
		}
		return t.UnixMilli(), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return 0, fmt.Errorf("--from %q: want a positive duration ago, such as 10m", s)
		}
		return now.Add(-d).UnixMilli(), nil
	}
	return 0, fmt.Errorf("--from %q: want epoch milliseconds, an RFC 3339 time or a duration ago such as 10m", s)
}

// loadCA makes a TLS configuration that trusts the PEM certificates in path.
func loadCA(path string) (*tls.Config, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate found", path)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// isNotBuilt reports whether err says the chosen transport is not compiled
// into this binary. The library has no sentinel for it (yet): match its text.
func isNotBuilt(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not built")
}

func runTail(ctx context.Context, e *env, args []string) int {
	var c tailConfig
	fs := e.newFlagSet("tail", "[flags]", tailAbout)
	c.flags(fs)
	if code := e.parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageError("tail", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if c.key == "" {
		c.key = e.getenv("FIREHOSE_API_KEY")
	}
	opts, err := c.options(time.Now())
	if err != nil {
		return e.usageError("tail", err.Error())
	}
	return e.tail(ctx, &c, opts)
}

// errWrite is the cause recorded when stdout fails while the stream waits.
type errWrite struct{ err error }

func (e *errWrite) Error() string { return "writing stdout: " + e.err.Error() }
func (e *errWrite) Unwrap() error { return e.err }

func (e *env) tail(ctx context.Context, c *tailConfig, opts []firehose.Option) int {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if c.duration > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, c.duration)
		defer stop()
	}
	out := newOutput(e.stdout, func(err error) { cancel(&errWrite{err}) })
	if c.checkpoint != "" {
		opts = append(opts, checkpointOptions(c.checkpoint, out)...)
	}
	client, err := firehose.New(opts...)
	if err != nil {
		out.close()
		return e.usageError("tail", err.Error())
	}
	var st *status
	if !c.quiet {
		every := logEvery
		if e.stderrTTY {
			every = redrawEvery
		}
		st = startStatus(e.stderr, e.stderrTTY, every, client.Stats)
	}
	err = e.pump(ctx, client, out, c.count)
	werr := out.close()
	if werr == nil {
		var we *errWrite
		if errors.As(context.Cause(ctx), &we) {
			werr = we.err
		}
	}
	if werr != nil && isBrokenPipe(werr) {
		// The reader went away (firehose tail | head): a normal end, and
		// stderr may be gone too.
		if st != nil {
			st.halt()
		}
		return exitOK
	}
	if st != nil {
		if client.Stats().Connects > 0 {
			st.finish()
		} else {
			st.halt() // never connected: the reason below says it all
		}
	}
	switch {
	case werr != nil:
		fmt.Fprintf(e.stderr, "firehose tail: writing stdout: %v\n", werr)
		return exitFatal
	case err == nil:
		return exitOK
	case isNotBuilt(err):
		fmt.Fprintf(e.stderr, "firehose tail: transport %s is not available in this build (%v)\n", c.transport, err)
		return exitUsage
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, firehose.ErrClosed)):
		// --duration, SIGINT or SIGTERM.
		return exitOK
	}
	fmt.Fprintf(e.stderr, "firehose tail: %v\n", err)
	return exitFatal
}

// errCountReached stops the stream once --count events were printed.
var errCountReached = errors.New("count reached")

// pump prints events until count (if > 0), ctx's end or an error; it returns
// why it stopped (nil after count). Events are borrowed: each line goes from
// the read buffer straight into stdout's buffer, with no copy of its own.
// The count-th event is finished (its handler returned nil) before the
// stream stops, so a checkpoint taken on exit includes it.
func (e *env) pump(ctx context.Context, client *firehose.Client, out *output, count int64) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var n int64
	err := client.RunBorrowed(ctx, func(_ context.Context, ev *firehose.BorrowedEvent) error {
		if err := out.writeLine(ev.JSON()); err != nil {
			return &errWrite{err}
		}
		if n++; n == count {
			stop(errCountReached)
		}
		return nil
	})
	if errors.Is(context.Cause(ctx), errCountReached) {
		return nil
	}
	return err
}
