// Command firehose tails a firehose (Cisco Spaces, Sierra Wireless Octave,
// QVoice call events), serves a local mock of Cisco's, and shows the
// library's delivery guarantees end to end.
//
//	firehose tail --key KEY                 print every event as one JSON line
//	firehose mock                           serve a mock firehose on 127.0.0.1:8080
//	firehose demo                           no key, no network: see it survive faults
//	firehose plan N                         the partition ranges of N receivers
//	firehose top --key KEY                  watch the flow, receivers, lag and reconnects live
//	firehose version                        the module version and VCS revision
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
	"strings"
	"syscall"

	"github.com/firehose-go/firehose/internal/cliexit"
	"github.com/firehose-go/firehose/internal/sourceflags"
)

// Exit codes.
const (
	exitOK    = cliexit.OK
	exitFatal = cliexit.Fatal // a fatal error: a wrong key, a refused channel, a write error
	exitUsage = cliexit.Usage // bad flags, an unknown subcommand, a feature not in this build
	// exitNeverConnected: tail or top stopped (--duration, a signal,
	// --retry-limit) without ever having connected; stderr says why the
	// attempts failed.
	exitNeverConnected = cliexit.NeverConnected
)

func main() {
	// A closed stdout (firehose tail | head) must surface as EPIPE from Write,
	// so tail can exit quietly, rather than kill the process with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	// grpc-go's own logger: silent unless -v routes it to stderr. Only the
	// CLI process installs it; the library installs nothing global.
	sourceflags.InstallGRPCLog()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a subcommand may take from its surroundings; tests replace it.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	stderrTTY      bool       // stderr is a terminal
	sameTerminal   bool       // stdout is that same terminal: no redraw in place
	termWidth      func() int // stderr's columns (0: unknown)
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
		{"version", "print the module version and VCS revision", runVersion},
	}
}

// run is main without the process: it parses args, runs one subcommand and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, stderrTTY: isTerminal(stderr)}
	if e.stderrTTY {
		e.sameTerminal = sameFile(stdout, stderr)
		f := stderr.(*os.File)
		e.termWidth = func() int {
			if w, _, err := windowSize(int(f.Fd())); err == nil {
				return w
			}
			return 0
		}
	}
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
		e.helpAll(ctx)
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
	fmt.Fprintln(w, "Run 'firehose COMMAND -h' for the flags of a command, 'firehose help' for all of them.")
}

// helpText is the end of 'firehose help': what applies to every command.
const helpText = `Exit codes:
  0  done: --count reached, --duration over, SIGINT or SIGTERM, or a reader that went away (| head)
  1  a fatal error: a wrong key, a refused channel, an untrusted certificate, a write error
  2  bad flags or an unknown command
  3  tail or top stopped (--duration, a signal, --retry-limit) without ever having
     connected; stderr says why the attempts failed

Environment (a flag given wins):
  FIREHOSE_API_KEY     cisco: --key
  FIREHOSE_ENDPOINT    cisco: --endpoint
  FIREHOSE_TRANSPORT   cisco: --transport
  OCTAVE_TOKEN         octave: --token
  CALLEVENTS_PASSWORD  callevents: --password
`

// helpAll prints every command's usage and flags, then the exit codes and
// the environment.
func (e *env) helpAll(ctx context.Context) {
	for _, c := range commands() {
		fmt.Fprintf(e.stdout, "\n%s\n\n", strings.Repeat("-", 72))
		c.run(ctx, e, []string{"-h"})
	}
	fmt.Fprintf(e.stdout, "\n%s\n\n%s", strings.Repeat("-", 72), helpText)
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

// sameFile reports whether a and b are the same open file (stdout and
// stderr on one terminal).
func sameFile(a, b io.Writer) bool {
	fa, ok1 := a.(*os.File)
	fb, ok2 := b.(*os.File)
	if !ok1 || !ok2 {
		return false
	}
	ia, err1 := fa.Stat()
	ib, err2 := fb.Stat()
	return err1 == nil && err2 == nil && os.SameFile(ia, ib)
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
