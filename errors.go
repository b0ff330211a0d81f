package firehose

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
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

// ErrGap is reported through Stats, the logger and the error hook when the
// resume point had to be clamped to the server's replay window: events older
// than the window may have been missed.
var ErrGap = errors.New("firehose: resume point older than the replay window, events may be missing")

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

// trimMessage keeps a server message printable and short.
func trimMessage(b []byte) string {
	const max = 512
	if len(b) > max {
		b = b[:max]
	}
	out := make([]rune, 0, len(b))
	for _, r := range string(b) {
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		if r < 0x20 || r == 0x7f {
			continue
		}
		out = append(out, r)
	}
	s := string(out)
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (relative to now). ok reports whether the value was present and valid; a
// date in the past is a valid zero.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
