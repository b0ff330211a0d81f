package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/firehose-go/firehose/internal/benchrun"
)

const benchAbout = `Measure this SDK end to end on loopback against the raw transport and a naive
client. A mock firehose runs in a child process (this binary, re-executed), so
the CPU and allocations reported are the client's alone. For each transport,
in alternating rounds: raw (bytes read and thrown away), naive (a Scanner,
json.Unmarshal into a map, a map dedupe), the SDK (owned events: Client.Run;
borrowed: Client.RunBorrowed) and, over HTTP and gRPC, 'firehose tail'
writing to --tail-out. Peers in another stack run as processes of their own:
Node clients (node: ws or grpc-js doing what a consumer must; node-raw:
messages counted) from --peers, skipped with the reason when node or their
node_modules is missing (npm ci --prefix bench/peers). Every pass reads the
whole history and is checked: every event counted exactly once. Prints
events/s, MB/s, CPU µs/event (getrusage; a peer's: its process's), allocs/event,
and the ratios to raw and naive, as Markdown.`

type benchConfig struct {
	events       int
	shortEvents  int
	rounds       int
	transports   string
	clients      string
	peers        string
	tailOut      string
	profileDir   string
	memory       bool
	throughput   bool
	memoryEvents int64
	slowFor      time.Duration
	seed         int64
	quiet        bool
}

func (c *benchConfig) flags(fs *flag.FlagSet) {
	fs.IntVar(&c.events, "events", benchrun.DefaultEvents, "`N` events in the mock's history; every pass reads them all")
	fs.IntVar(&c.shortEvents, "short-events", benchrun.DefaultShortEvents, "the naive and gRPC rows read only the history's first `N` events")
	fs.IntVar(&c.rounds, "rounds", benchrun.DefaultRounds, "measured passes per row, alternating between rows")
	fs.StringVar(&c.transports, "transports", "http,ws,ws-unbatched,grpc", "`LIST` of transports (a transport nobody serves yet is skipped)")
	fs.StringVar(&c.clients, "clients", "raw,naive,owned,borrowed,tail,node,node-raw", "`LIST` of clients")
	fs.StringVar(&c.peers, "peers", benchrun.DefaultPeersDir, "`DIR` of the Node peers (node, node-raw rows) and their node_modules; \"\": skip those rows")
	fs.StringVar(&c.tailOut, "tail-out", os.DevNull, "`FILE` tail's stdout goes to")
	fs.StringVar(&c.profileDir, "profile", "", "after the rounds, profile one more pass of each row into `DIR`/TRANSPORT-CLIENT.pprof (the mock: DIR/mock.pprof)")
	fs.BoolVar(&c.throughput, "throughput", true, "measure the table (false: only the memory checks)")
	fs.BoolVar(&c.memory, "memory", true, "also check memory: heap over --memory-events, the dedupe window, a slow handler")
	fs.Int64Var(&c.memoryEvents, "memory-events", benchrun.DefaultMemoryEvents, "events of the heap-flatness run")
	fs.DurationVar(&c.slowFor, "slow-for", 5*time.Second, "how long the slow-handler run lasts")
	fs.Int64Var(&c.seed, "seed", benchrun.DefaultSeed, "seed of the mock's log")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress lines on stderr")
}

func runBench(ctx context.Context, e *env, args []string) int {
	if benchrun.ChildRequested() {
		// The mock's process, started by the bench below.
		return benchrun.ServeChild(ctx, os.Stdin, e.stdout, e.stderr)
	}
	var c benchConfig
	fs := e.newFlagSet("bench", "[flags]", benchAbout)
	c.flags(fs)
	if code := e.parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageError("bench", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	cfg := benchrun.Config{
		Events:       c.events,
		ShortEvents:  c.shortEvents,
		Rounds:       c.rounds,
		Transports:   splitList(c.transports),
		Clients:      splitList(c.clients),
		Peers:        c.peers,
		Tail:         e.benchTail,
		TailOut:      c.tailOut,
		ProfileDir:   c.profileDir,
		Memory:       c.memory,
		NoThroughput: !c.throughput,
		MemoryEvents: c.memoryEvents,
		SlowFor:      c.slowFor,
		Seed:         c.seed,
		ChildArgs:    []string{"bench"},
		Progress:     e.stderr,
	}
	if c.quiet {
		cfg.Progress = io.Discard
	}
	rep, err := benchrun.Run(ctx, cfg)
	if rep != nil {
		rep.WriteMarkdown(e.stdout)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "firehose bench: %v\n", err)
		return exitFatal
	}
	for _, row := range rep.Rows {
		if row.Err != "" {
			return exitFatal // an incorrect pass is a failure, not a figure
		}
	}
	return exitOK
}

// benchTail runs this binary's own tail in process, its stdout to a.Out.
func (e *env) benchTail(ctx context.Context, a benchrun.TailArgs) error {
	te := &env{stdout: a.Out, stderr: io.Discard, getenv: func(string) string { return "" }}
	args := []string{"tail", "--quiet",
		"--endpoint", a.Endpoint, "--key", a.Key, "--transport", a.Transport,
		"--from", strconv.FormatInt(a.From, 10), "--count", strconv.FormatInt(a.Count, 10)}
	if code := te.dispatch(ctx, args); code != exitOK {
		return fmt.Errorf("tail exited with %d", code)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
