package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/internal/cliexit"
	"github.com/firehose-go/firehose/internal/sourceflags"
)

const tailAbout = `Print every event of the firehose on stdout, one JSON line each, exactly as
received (--output raw): no event lost across disconnects, none printed twice,
no keep-alives. --source picks the firehose: cisco (Cisco Spaces, the default),
octave (Sierra Wireless Octave: each event's value object) or callevents
(QVoice call events: each event object). Flags marked "cisco:", "octave:" or
"callevents:" apply to that source only.

Stops after --count events, after --duration, on SIGINT or SIGTERM (exit 0),
on a fatal error such as a wrong key (exit 1), or on bad flags (exit 2). Exit 3
when it stopped without ever having connected: the reason is on stderr.

The status line (stderr; redrawn in place when stderr is a terminal of its
own, a plain line every 10 s otherwise or when stdout is the same terminal):
  STATE             connected, connecting, backing off until HH:MM:SS, stopped;
                    with "N failed attempts" since the last connection
  N events          events printed, and the rate over the last redraw
  lag D             now minus the newest event's timestamp
  N possible gaps   events that may be missing, by kind (clamped, no_replay, ...)
  N reconnects      connections replaced, by cause (eof, network, idle, ...)
  N duplicates      events dropped as already printed
  N keep-alives     keep-alives received (never printed)
  N bad frames      malformed, oversized or torn frames dropped
Each distinct error is logged once on stderr, in full.

Secrets (--key, --token, --password) are read from the environment when the
flag is not given, and never printed.`

// tailConfig is tail's (and top's) parsed command line.
type tailConfig struct {
	src        *sourceflags.Flags
	checkpoint string
	output     string
	count      int64
	duration   time.Duration
	quiet      bool

	built *sourceflags.Built // set by options
}

// flags registers the source flags and the run flags; tail adds
// --checkpoint and --output.
func (c *tailConfig) flags(fs *flag.FlagSet, tail bool) {
	c.src = sourceflags.Register(fs)
	if tail {
		fs.StringVar(&c.checkpoint, "checkpoint", "", "keep the position in `FILE`: resume from it, save it every second and on exit\n(wins over --from once it exists)")
		fs.StringVar(&c.output, "output", "raw", "`FORMAT` of stdout: raw (each event as received, one a line), pretty (indented JSON),\n"+
			"meta (one JSON object a line: source, partitions, id, timestamp, type and the event)")
	}
	fs.Int64Var(&c.count, "count", 0, "exit after `N` events (default: no limit)")
	sourceflags.Duration(fs, &c.duration, "duration", 0, "exit after `D`, a duration such as 30s (default: no limit)")
	fs.BoolVar(&c.quiet, "quiet", false, "no status line and no error log on stderr (fatal errors are still printed)")
}

// options turns the command line into client options; an error is a usage
// error (exit 2).
// -v logs go to logs (stderr, or through the status line's writer).
func (c *tailConfig) options(e *env, now time.Time, logs io.Writer) ([]firehose.Option, error) {
	if logs == nil {
		logs = e.stderr
	}
	b, err := c.src.Build(sourceflags.Env{Now: now, Getenv: e.getenv, Stderr: logs})
	if err != nil {
		return nil, err
	}
	c.built = b
	if c.count < 0 {
		return nil, fmt.Errorf("--count %d: want a count >= 0 (0: no limit)", c.count)
	}
	if c.duration < 0 {
		return nil, fmt.Errorf("--duration %v: want a positive duration such as 5s", c.duration)
	}
	switch c.output {
	case "", "raw", "pretty", "meta": // "": top, which prints no events
	default:
		return nil, fmt.Errorf("--output %q: want raw, pretty or meta", c.output)
	}
	if c.src.Verbose {
		sourceflags.RouteGRPCLog(logs)
	}
	return b.Options, nil
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

func runTail(ctx context.Context, e *env, args []string) int {
	var c tailConfig
	fs := e.newFlagSet("tail", "[flags]", tailAbout)
	c.flags(fs, true)
	if code := e.parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageError("tail", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	var st *status
	var logs io.Writer
	if !c.quiet {
		st = e.newStatus("tail")
		logs = st.logWriter()
	}
	opts, err := c.options(e, time.Now(), logs)
	if err != nil {
		return e.usageError("tail", err.Error())
	}
	return e.tail(ctx, &c, opts, st)
}

// errWrite is the cause recorded when stdout fails while the stream waits.
type errWrite struct{ err error }

func (e *errWrite) Error() string { return "writing stdout: " + e.err.Error() }
func (e *errWrite) Unwrap() error { return e.err }

// tail runs the stream; st is nil with --quiet.
func (e *env) tail(ctx context.Context, c *tailConfig, opts []firehose.Option, st *status) int {
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
	if st != nil {
		opts = append(opts, firehose.WithErrorHook(st.logError))
	}
	client, err := firehose.New(opts...)
	if err != nil {
		out.close()
		return e.usageError("tail", cliexit.Clean(err))
	}
	if st != nil {
		st.start(client.Stats)
	}
	err = e.pump(ctx, client, out, c)
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
	connects := client.Stats().Connects
	if st != nil {
		if connects > 0 {
			st.finish()
		} else {
			st.halt() // never connected: the reason below says it all
		}
	}
	if werr != nil {
		fmt.Fprintf(e.stderr, "firehose tail: writing stdout: %v\n", werr)
		return exitFatal
	}
	return e.end("tail", ctx, err, connects)
}

// end prints why a command's run ended (if it says anything) and returns its
// exit code: 0 when --count, --duration or a signal stopped it, 3 when it
// stopped without ever having connected (connects is Stats.Connects), 1 for
// a fatal error.
func (e *env) end(cmd string, ctx context.Context, err error, connects int64) int {
	code, msg := cliexit.End(ctx, err, connects)
	if msg != "" {
		fmt.Fprintf(e.stderr, "firehose %s: %s\n", cmd, msg)
	}
	return code
}

// errCountReached stops the stream once --count events were printed.
var errCountReached = errors.New("count reached")

// pump prints events until count (if > 0), ctx's end or an error; it returns
// why it stopped (nil after count). Events are borrowed: each line goes from
// the read buffer straight into stdout's buffer, with no copy of its own.
// The count-th event is finished (its handler returned nil) before the
// stream stops, so a checkpoint taken on exit includes it.
func (e *env) pump(ctx context.Context, client *firehose.Client, out *output, c *tailConfig) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var n int64
	format := newFormatter(c.output)
	err := client.RunBorrowed(ctx, func(_ context.Context, ev *firehose.BorrowedEvent) error {
		if err := out.writeLine(format(ev)); err != nil {
			return &errWrite{err}
		}
		if n++; n == c.count {
			stop(errCountReached)
		}
		return nil
	})
	if errors.Is(context.Cause(ctx), errCountReached) && (err == nil || errors.Is(err, context.Canceled)) {
		return nil // the count was reached, and nothing else went wrong (a failed final save would)
	}
	return err
}
