package firehose

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firehose-go/firehose/internal/printable"
)

// ErrFatal is the class of errors that end a stream: retrying cannot help
// (a bad or blocked key, a channel not enabled, a bad parameter, a wrong path,
// an untrusted certificate, a refused redirect). Test with errors.Is.
var ErrFatal = errors.New("firehose: fatal")

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("firehose: stream closed")

// ErrIdleTimeout is the cause recorded when a connection was dropped because
// no frame (event or keep-alive) arrived within the idle timeout. It never
// ends a stream: the engine reconnects and replays.
var ErrIdleTimeout = errors.New("firehose: no data within the idle timeout")

// ErrGap is the class of possible gaps: events the stream may have missed. A
// gap never ends a stream; it is reported as a *GapError through Stats, the
// logger and the error hook. Test with errors.Is(err, ErrGap).
var ErrGap = errors.New("firehose: possible gap")

// StatusError is a status returned by the server: an HTTP status for the HTTP
// and WebSocket channels, a gRPC code (mapped to its HTTP equivalent in Code)
// for the gRPC channel. A StatusError for 400, 401, 403 or 404 is fatal:
// errors.Is(err, ErrFatal) reports true.
type StatusError struct {
	Transport  string        // "http", "ws" or "grpc"
	Code       int           // HTTP status, or the HTTP equivalent of the gRPC code
	GRPCCode   string        // the gRPC code's name ("UNAUTHENTICATED"), empty for HTTP and WebSocket
	Message    string        // the server's message, trimmed to 512 bytes
	RetryAfter time.Duration // from Retry-After (HTTP header, gRPC metadata) when the server sent one

	retryAfterSet bool // Retry-After was present (possibly 0)
}

func (e *StatusError) Error() string {
	var s string
	if e.GRPCCode != "" {
		s = fmt.Sprintf("firehose: %s: status %s", e.Transport, e.GRPCCode)
	} else {
		s = fmt.Sprintf("firehose: %s: status %d %s", e.Transport, e.Code, http.StatusText(e.Code))
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes errors.Is(err, ErrFatal) true for the statuses that must not be retried.
func (e *StatusError) Is(target error) bool { return target == ErrFatal && e.Fatal() }

// Fatal reports whether the status ends the stream (400, 401, 403, 404).
func (e *StatusError) Fatal() bool {
	switch e.Code {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}

// fatalError marks a non-status error as fatal while keeping its chain.
type fatalError struct{ err error }

func (e *fatalError) Error() string        { return "firehose: " + e.err.Error() }
func (e *fatalError) Unwrap() error        { return e.err }
func (e *fatalError) Is(target error) bool { return target == ErrFatal }

func fatalf(format string, args ...any) error {
	return &fatalError{err: fmt.Errorf(format, args...)}
}

// trimMessage keeps a server message printable (internal/printable: no
// control characters or terminal escapes) and short.
func trimMessage(b []byte) string {
	const max = 512
	if len(b) > max {
		b = b[:max]
	}
	return strings.TrimSpace(printable.Clean(string(b)))
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (relative to now). ok reports whether the value was present and valid; a
// date in the past is a valid zero.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		// Seconds past the cap would overflow a Duration: the cap applies anyway.
		if n > int64(DefaultRetryAfterCap/time.Second) {
			return DefaultRetryAfterCap, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// ErrHardCap is what a Source wraps in the error that ends a connection
// because a frame exceeded a limit the transport cannot skip past (gRPC's
// receive cap). A replay would bring the same frame back: the engine resumes
// without its replay margin once, reporting a GapSkipped, and if the frame
// still blocks the stream it ends it with a fatal error instead of looping.
var ErrHardCap = errors.New("firehose: a frame above the transport's hard cap ended the connection")

// ErrRetryLimit ends a stream that failed WithRetryLimit attempts in a row.
var ErrRetryLimit = errors.New("firehose: retry limit reached")

// ConnectError is what a stream returns when it stops while failing to
// connect: its context ended, it was closed, or WithRetryLimit ran out. It
// says how many attempts failed and why the last one did, so a stream that
// cannot connect never ends in a bare "context deadline exceeded".
// errors.Is sees both Err (ctx's error, ErrClosed, ErrRetryLimit) and Last.
type ConnectError struct {
	Attempts int   // failed attempts in a row
	Last     error // the last attempt's error
	Err      error // why the stream stopped trying
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("firehose: not connected after %d failed attempt%s (%v); last error: %v", e.Attempts, plural(e.Attempts), e.Err, e.Last)
}

func (e *ConnectError) Unwrap() []error { return []error{e.Err, e.Last} }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ErrTryLater is what a source wraps in an error that asks for the same
// patience as a 429 (a WebSocket close 1013): the next attempt waits at least
// DefaultRateLimitFloor.
var ErrTryLater = errors.New("firehose: server asked to try again later")

// Fatal marks err as ending the stream: errors.Is(Fatal(err), ErrFatal) is
// true and err stays in the chain. A Source returns it for what retrying
// cannot fix.
func Fatal(err error) error {
	if err == nil {
		return nil
	}
	return &fatalError{err: err}
}

// Retry marks err as worth one more attempt even when it is fatal: a Source
// returns Retry(err) for the fresh attempt it allows itself (a login to redo
// after a 401) and err itself the next time. err stays in the chain, so
// errors.As still finds its *StatusError.
func Retry(err error) error {
	if err == nil {
		return nil
	}
	return &retryError{err: err}
}

type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// isFatal is the engine's test: fatal, unless a source asked for a retry.
func isFatal(err error) bool {
	var re *retryError
	if errors.As(err, &re) {
		return false
	}
	return errors.Is(err, ErrFatal)
}

// DropReason says why a frame was not delivered.
type DropReason uint8

// The reasons a frame is dropped; each is counted in Stats.
const (
	DropMalformed DropReason = iota // not an event: bad syntax, no id or timestamp
	DropOversized                   // larger than the max event size, skipped in bounded memory
	DropTorn                        // the connection ended inside it
	DropBinary                      // a WebSocket binary message where text was expected
	DropEmpty                       // an empty message
)

func (k DropReason) String() string {
	switch k {
	case DropMalformed:
		return "malformed"
	case DropOversized:
		return "oversized"
	case DropTorn:
		return "torn"
	case DropBinary:
		return "binary"
	case DropEmpty:
		return "empty"
	}
	return "bad"
}

// FrameError reports one frame that could not be delivered; a Conn returns it
// from Next and the connection goes on. Nothing else is lost.
type FrameError struct {
	Reason DropReason
	Size   int   // the frame's size in bytes, when known
	Err    error // the underlying problem, if any
}

func (e *FrameError) Error() string {
	s := "firehose: " + e.Reason.String() + " frame dropped"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FrameError) Unwrap() error { return e.Err }

func errorf(format string, args ...any) error {
	return fmt.Errorf("firehose: "+format, args...)
}
