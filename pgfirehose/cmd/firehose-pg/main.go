// Command firehose-pg writes a firehose into a PostgreSQL table, every event
// exactly once across restarts, kill -9 included: each batch of events is
// committed in one transaction with the position (see package pgfirehose).
//
//	firehose-pg --key KEY --region eu                  # PG* variables say where
//	firehose-pg --dsn postgres://u@db/x --receiver 0/4 --table events
//	firehose-pg --source octave --company co --stream /co/devices/d1/cpu --gap-fill
//
// Exit 0 after --count events, after --duration, on SIGINT or SIGTERM (what
// was received is committed first); 1 on a fatal error; 2 on bad flags; 3
// when it stopped without ever having connected.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/internal/cliexit"
	"github.com/firehose-go/firehose/internal/sourceflags"
	"github.com/firehose-go/firehose/pgfirehose"
)

const (
	exitOK    = cliexit.OK
	exitFatal = cliexit.Fatal
	exitUsage = cliexit.Usage
)

const about = `Usage: firehose-pg [flags]

Write every event of a firehose into a PostgreSQL table (id, ts, type, the
tenant fields, event jsonb), exactly once: each batch is committed in one
transaction with the checkpoint, and rows already there are skipped. A
status line goes to stderr. Stops after --count events, after --duration, on
SIGINT or SIGTERM (exit 0, the last batch committed), or on a fatal error
(exit 1). Bad flags exit 2. A run stopped before it ever connected exits 3,
with the reason the attempts failed.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	sourceflags.InstallGRPCLog() // grpc-go's logger: silent unless -v
	code := run(ctx, os.Args[1:], os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// config is the command line, less the source's flags (internal/sourceflags,
// the same as firehose tail's).
type config struct {
	dsn             string
	table           string
	checkpointTable string
	checkpointName  string
	batch           int
	batchWait       time.Duration
	count           int64
	duration        time.Duration
	quiet           bool
}

func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.dsn, "dsn", "", "PostgreSQL `DSN`, a URL or key=value string (default: the PG* environment variables)")
	fs.StringVar(&c.table, "table", pgfirehose.DefaultEventTable, "event `TABLE`, created if missing")
	fs.StringVar(&c.checkpointTable, "checkpoint-table", pgfirehose.DefaultCheckpointTable, "checkpoint `TABLE`, created if missing")
	fs.StringVar(&c.checkpointName, "checkpoint-name", "", "checkpoint `NAME`: one per process, locked while it runs\n(default: the source and the partition range, such as cisco/eu/1-12)")
	fs.IntVar(&c.batch, "batch", pgfirehose.DefaultBatchSize, "commit after `N` events")
	fs.DurationVar(&c.batchWait, "batch-wait", pgfirehose.DefaultBatchWait, "commit at least this often (the checkpoint interval)")
	fs.Int64Var(&c.count, "count", 0, "exit after `N` events (default: no limit)")
	sourceflags.Duration(fs, &c.duration, "duration", 0, "exit after `D`, a duration such as 30s (default: no limit)")
	fs.BoolVar(&c.quiet, "quiet", false, "no status line on stderr")
}

func run(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("firehose-pg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.flags(fs)
	src := sourceflags.Register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, about)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "firehose-pg: %s (firehose-pg -h for help)\n", msg)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	built, err := src.Build(sourceflags.Env{Now: time.Now(), Getenv: getenv, Stderr: stderr})
	if err != nil {
		return usage(err.Error())
	}
	if src.Verbose {
		sourceflags.RouteGRPCLog(stderr)
	}
	opts := built.Options
	switch {
	case c.count < 0:
		return usage(fmt.Sprintf("--count %d: want >= 0", c.count))
	case c.duration < 0:
		return usage(fmt.Sprintf("--duration %v: want >= 0", c.duration))
	}
	if c.checkpointName == "" {
		c.checkpointName = built.CheckpointName()
	}
	sink, err := pgfirehose.NewSink(c.dsn, c.checkpointName,
		pgfirehose.WithTable(c.table), pgfirehose.WithCheckpointTable(c.checkpointTable),
		pgfirehose.WithBatch(c.batch), pgfirehose.WithBatchWait(c.batchWait))
	if err != nil {
		return usage(err.Error())
	}
	defer sink.Close()
	client, err := firehose.New(append(opts, sink.Options()...)...)
	if err != nil {
		return usage(err.Error())
	}
	return pump(ctx, &c, client, sink, stderr)
}

var errCountReached = errors.New("count reached")

// pump runs the stream into the sink and returns the exit code.
func pump(ctx context.Context, c *config, client *firehose.Client, sink *pgfirehose.Sink, stderr io.Writer) int {
	if c.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.duration)
		defer cancel()
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var st *status
	if !c.quiet {
		st = startStatus(stderr, time.Second, client.Stats, sink.Stats)
	}
	var n int64
	handle := sink.Handler(client) // a full batch is committed with the checkpoint
	err := client.Run(ctx, func(ctx context.Context, ev *firehose.Event) error {
		if err := handle(ctx, ev); err != nil {
			return err
		}
		if n++; n == c.count {
			stop(errCountReached)
		}
		return nil
	})
	if st != nil {
		st.stop()
	}
	// Run has made its final save: Err says whether it committed.
	if serr := sink.Err(); serr != nil {
		fmt.Fprintf(stderr, "firehose-pg: the last batch was not committed: %v\n", serr)
		return exitFatal
	}
	code, msg := cliexit.End(ctx, err, client.Stats().Connects) // --count, --duration and signals stop it
	if msg != "" {
		fmt.Fprintf(stderr, "firehose-pg: %s\n", msg)
	}
	return code
}
