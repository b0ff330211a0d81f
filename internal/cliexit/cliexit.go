// Package cliexit is how the commands that run a firehose end — firehose tail
// and top, firehose-pg, firehose-kafka: one set of exit codes, one rule for a
// run that stopped before it ever connected, one way to print an error.
package cliexit

import (
	"context"
	"errors"
	"strings"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/internal/printable"
)

// Exit codes.
const (
	OK    = 0 // done: the count reached, the duration over, a signal
	Fatal = 1 // a fatal error: a wrong key, a refused channel, a write error
	Usage = 2 // bad flags, an unknown command
	// NeverConnected: the run stopped (the duration, a signal, the retry
	// limit) without ever having connected; stderr says why the attempts
	// failed. A supervisor sees a consumer that never worked as a failure,
	// not as a clean stop.
	NeverConnected = 3
)

// Stopped reports whether err is the stream ending because the command
// ended ctx (a count reached, a duration over, a signal, a key pressed).
func Stopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, firehose.ErrClosed))
}

// End returns the exit code of a run that ended with err after connects
// successful connections (Stats.Connects), and the line to print on stderr
// after "COMMAND: " ("" when there is nothing to say).
func End(ctx context.Context, err error, connects int64) (code int, msg string) {
	switch {
	case err == nil:
		return OK, ""
	case connects == 0 && (Stopped(ctx, err) || errors.Is(err, firehose.ErrRetryLimit)):
		return NeverConnected, "never connected: " + Clean(err)
	case Stopped(ctx, err):
		return OK, ""
	}
	return Fatal, Clean(err)
}

// Clean is an error as a command prints it: on one line of printable text
// (a server's words included), without the package prefixes a chain of
// wrapped errors repeats.
func Clean(err error) string {
	s := printable.Clean(err.Error())
	for strings.HasPrefix(s, "firehose: ") {
		s = s[len("firehose: "):]
	}
	for _, sep := range []string{": ", "; ", "(", ", "} {
		s = strings.ReplaceAll(s, sep+"firehose: ", sep)
	}
	return s
}
