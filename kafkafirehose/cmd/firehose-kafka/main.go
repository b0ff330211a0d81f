// Command firehose-kafka forwards a firehose to a Kafka topic: every event
// once (at-least-once by default, exactly-once to read_committed consumers
// with --exactly-once), keyed by its id, with its type and timestamp as
// headers. Its position is kept in Kafka, in a compacted checkpoint topic.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/internal/cliexit"
	"github.com/firehose-go/firehose/internal/sourceflags"
	"github.com/firehose-go/firehose/kafkafirehose"
)

const (
	exitOK    = cliexit.OK
	exitFatal = cliexit.Fatal
	exitUsage = cliexit.Usage
)

const about = `Usage: firehose-kafka --brokers HOST:PORT,... --topic T [flags]

Forward every event of a firehose (--source cisco, octave or callevents; the
source flags are firehose tail's) to the Kafka topic T, keyed by its id,
valued by the event exactly as received, with the headers "type" and
"timestamp" (epoch ms). The position is kept in Kafka, in the
compacted topic --checkpoint-topic: a restart resumes where the last run
stopped. At-least-once by default (a crash repeats at most about one second);
--exactly-once writes in transactions, so a read_committed consumer sees every
event once (one receiver per process).

Topics that do not exist are created. A status line goes to stderr. Exits 0
after --count, --duration, SIGINT or SIGTERM (the work is acknowledged and
checkpointed first), 1 on a fatal error, 2 on bad flags, 3 when it stopped
without ever having connected to the firehose (stderr says why).
`

// kafkaFlags are the sink's flags, common to every source.
type kafkaFlags struct {
	brokers, topic, ckptTopic, txnID string
	exactlyOnce                      bool
}

func (k *kafkaFlags) flags(fs *flag.FlagSet) {
	fs.StringVar(&k.brokers, "brokers", "", "Kafka seed brokers `HOST:PORT,...` (required)")
	fs.StringVar(&k.topic, "topic", "", "the `TOPIC` events go to (required)")
	fs.BoolVar(&k.exactlyOnce, "exactly-once", false, "write in transactions, the checkpoint inside each: every event once to read_committed consumers")
	fs.StringVar(&k.ckptTopic, "checkpoint-topic", "", "compacted `TOPIC` keeping the position (default <topic>-checkpoints)")
	fs.StringVar(&k.txnID, "transactional-id", "", "transactional.id with --exactly-once, fixed per range (default firehose-kafka-<topic>-<range>)")
}

func (k *kafkaFlags) options(rng firehose.Range) ([]string, []kafkafirehose.Option, error) {
	if k.brokers == "" {
		return nil, nil, errors.New("--brokers is required")
	}
	if k.topic == "" {
		return nil, nil, errors.New("--topic is required")
	}
	var brokers []string
	for _, b := range strings.Split(k.brokers, ",") {
		if b = strings.TrimSpace(b); b == "" {
			return nil, nil, fmt.Errorf("--brokers %q: empty address", k.brokers)
		}
		brokers = append(brokers, b)
	}
	opts := []kafkafirehose.Option{kafkafirehose.WithRange(rng)}
	if k.exactlyOnce {
		opts = append(opts, kafkafirehose.WithExactlyOnce())
	}
	if k.ckptTopic != "" {
		opts = append(opts, kafkafirehose.WithCheckpointTopic(k.ckptTopic))
	}
	if k.txnID != "" {
		if !k.exactlyOnce {
			return nil, nil, errors.New("--transactional-id needs --exactly-once")
		}
		opts = append(opts, kafkafirehose.WithTransactionalID(k.txnID))
	}
	return brokers, opts, nil
}

// runFlags say when to stop and what to print.
type runFlags struct {
	count    int64
	duration time.Duration
	quiet    bool
}

func (r *runFlags) flags(fs *flag.FlagSet) {
	fs.Int64Var(&r.count, "count", 0, "exit after `N` events (default: no limit)")
	sourceflags.Duration(fs, &r.duration, "duration", 0, "exit after `D`, a duration such as 30s (default: no limit)")
	fs.BoolVar(&r.quiet, "quiet", false, "no status line on stderr")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	sourceflags.InstallGRPCLog() // grpc-go's logger: silent unless -v
	code := run(ctx, os.Args[1:], os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) int {
	var (
		k kafkaFlags
		r runFlags
	)
	fs := flag.NewFlagSet("firehose-kafka", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, about, "\nFlags:\n")
		fs.PrintDefaults()
	}
	k.flags(fs)
	src := sourceflags.Register(fs) // the same source flags as firehose tail
	r.flags(fs)
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "firehose-kafka: %s\nRun 'firehose-kafka -h' for help.\n", msg)
		return exitUsage
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
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
	fopts, rng := built.Options, built.Range
	brokers, kopts, err := k.options(rng)
	if err != nil {
		return usage(err.Error())
	}
	if r.count < 0 || r.duration < 0 {
		return usage("--count and --duration want values >= 0")
	}
	if r.count > 0 {
		kopts = append(kopts, kafkafirehose.WithMaxEvents(r.count))
	}
	b, err := kafkafirehose.New(brokers, k.topic, kopts...)
	if err == nil {
		_, err = firehose.New(fopts...) // bad source options are usage errors, before any I/O
	}
	if err != nil {
		return usage(err.Error())
	}
	if r.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.duration)
		defer cancel()
	}
	var st *status
	if !r.quiet {
		st = startStatus(stderr, time.Second, b.Stats)
	}
	err = b.Run(ctx, fopts...)
	if st != nil {
		st.stop()
	}
	if errors.Is(err, kafkafirehose.ErrFailed) { // Kafka refused: whatever stopped the run
		fmt.Fprintf(stderr, "firehose-kafka: %s\n", cliexit.Clean(err))
		return exitFatal
	}
	// --duration, SIGINT or SIGTERM with the last save through: 0; before
	// ever connecting to the firehose: 3.
	code, msg := cliexit.End(ctx, err, b.Stats().Firehose.Connects)
	if msg != "" {
		fmt.Fprintf(stderr, "firehose-kafka: %s\n", msg)
	}
	return code
}
