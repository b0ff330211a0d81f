// Command firehose tails a Cisco Spaces Partner Firehose, serves a local mock
// of one, and shows the library's delivery guarantees end to end.
//
//	firehose tail --key KEY                 print every event as one JSON line
//	firehose mock                           serve a mock firehose on 127.0.0.1:8080
//	firehose demo                           no key, no network: see it survive faults
//	firehose plan N                         the partition ranges of N receivers
//	firehose top --key KEY                  watch the flow, receivers, lag and reconnects live
//
// Run "firehose help" or "firehose COMMAND -h" for the flags.
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
)

// Exit codes.
const (
	exitOK    = 0
	exitFatal = 1 // a fatal error: a wrong key, a refused channel, a write error
	exitUsage = 2 // bad flags, an unknown subcommand, a feature not in this build
)

func main() {
	// A closed stdout (firehose tail | head) must surface as EPIPE from Write,
	// so tail can exit quietly, rather than kill the process with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a subcommand may take from its surroundings; tests replace it.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	stderrTTY      bool // redraw the status line in place
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{"tail", "print the events of a firehose, one JSON line each", runTail},
		{"mock", "serve a mock firehose until interrupted", runMock},
		{"demo", "tail an in-process mock through faults and check nothing was lost", runDemo},
		{"plan", "print the partition ranges of N receivers", runPlan},
		{"bench", "measure the SDK against the raw transport and a naive client", runBench},
		{"top", "watch a firehose live: flow by type, receivers, lag, reconnects", runTop},
	}
}

// run is main without the process: it parses args, runs one subcommand and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, stderrTTY: isTerminal(stderr)}
	return e.dispatch(ctx, args)
}

func (e *env) dispatch(ctx context.Context, args []string) int {
	if len(args) == 0 {
		e.usage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			for _, c := range commands() {
				if c.name == args[1] {
					return c.run(ctx, e, []string{"-h"})
				}
			}
			fmt.Fprintf(e.stderr, "firehose: unknown command %q; run 'firehose help'\n", args[1])
			return exitUsage
		}
		e.usage(e.stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "firehose: unknown command %q; run 'firehose help'\n", name)
	return exitUsage
}

func (e *env) usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: firehose COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-6s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'firehose COMMAND -h' for the flags of a command.")
}

// newFlagSet makes a subcommand's flag set: errors are returned, not printed
// by the flag package, so each command reports one line and exits 2; -h prints
// the usage on stdout.
func (e *env) newFlagSet(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := e.stdout
		fmt.Fprintf(w, "Usage: firehose %s %s\n\n%s\n", name, synopsis, about)
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return fs
}

// parseFlags parses args into fs. It returns -1 to go on, or the exit code:
// 0 after -h, 2 after a bad flag (one line on stderr).
func (e *env) parseFlags(fs *flag.FlagSet, args []string) int {
	usage := fs.Usage
	fs.Usage = func() {} // the flag package would print it after any error
	err := fs.Parse(args)
	fs.Usage = usage
	switch {
	case err == nil:
		return -1
	case errors.Is(err, flag.ErrHelp):
		usage()
		return exitOK
	}
	return e.usageError(fs.Name(), err.Error())
}

// usageError prints one line and returns exit code 2.
func (e *env) usageError(cmd, msg string) int {
	fmt.Fprintf(e.stderr, "firehose %s: %s (see 'firehose %s -h')\n", cmd, msg, cmd)
	return exitUsage
}

// isTerminal reports whether w is a character device (a terminal), without a
// dependency on x/term.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
