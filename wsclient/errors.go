package wsclient

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/firehose-go/firehose/internal/printable"
)

// ErrClosed is returned by Next and WriteText after Close.
var ErrClosed = errors.New("wsclient: connection closed")

// ErrPongTimeout is the end of a connection whose ping went unanswered for
// Options.PongWait while nothing else arrived: the socket is presumed
// half-open.
var ErrPongTimeout = errors.New("wsclient: no pong within the pong wait")

// ErrReadLimit is the end of a connection that received a message larger
// than Options.ReadLimit.
var ErrReadLimit = errors.New("wsclient: message larger than the read limit")

// UnitKind says why a unit was not delivered.
type UnitKind uint8

const (
	// Oversized: the unit was longer than Options.MaxUnit; it was dropped
	// as it arrived. Size is its full length ("\r" excluded).
	Oversized UnitKind = iota + 1
	// Torn: the connection ended inside a message; Size is what had
	// arrived of it. The connection's end comes next.
	Torn
	// Binary: a binary message (without Options.Binary); Size is its length.
	Binary
	// Empty: a message without a unit (zero bytes, or only blank lines in
	// Lines mode); Size is its length.
	Empty
)

func (k UnitKind) String() string {
	switch k {
	case Oversized:
		return "oversized"
	case Torn:
		return "torn"
	case Binary:
		return "binary"
	case Empty:
		return "empty"
	}
	return "unit?"
}

// UnitError reports one unit Next could not deliver. The connection goes on
// (after Torn, Next returns the connection's end).
type UnitError struct {
	Kind UnitKind
	Size int // bytes, see the Kind
}

func (e *UnitError) Error() string {
	return "wsclient: " + e.Kind.String() + " unit dropped (" + strconv.Itoa(e.Size) + " bytes)"
}

// CloseError is a close frame received from the server: the connection's end.
type CloseError struct {
	Code int    // 1000 normal, 1001 going away, 1011 server error, 1013 try again later, 4000-4999 private...
	Text string // the reason, stripped of control characters and terminal escapes
}

func (e *CloseError) Error() string {
	s := "wsclient: server closed the connection: close " + strconv.Itoa(e.Code)
	if name := CloseCodeName(e.Code); name != "" {
		s += " (" + name + ")"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// CloseCodeName names a close code of RFC 6455 and its IANA registry, or
// returns "" for another (a private code such as 4001).
func CloseCodeName(code int) string {
	switch code {
	case 1000:
		return "normal closure"
	case 1001:
		return "going away"
	case 1002:
		return "protocol error"
	case 1003:
		return "unsupported data"
	case 1005:
		return "no status"
	case 1007:
		return "invalid payload data"
	case 1008:
		return "policy violation"
	case 1009:
		return "message too big"
	case 1010:
		return "mandatory extension"
	case 1011:
		return "internal server error"
	case 1012:
		return "service restart"
	case 1013:
		return "try again later"
	case 1014:
		return "bad gateway"
	}
	return ""
}

// HandshakeError is a refused upgrade: the server answered the upgrade
// request with something other than 101 Switching Protocols (or with a 101
// that is not a valid WebSocket answer). Dial returns it with the
// *http.Response, whose Body reads the same first bytes.
type HandshakeError struct {
	Status int         // the HTTP status: 401, 403, 429, 503...
	Header http.Header // the response's header (Retry-After, WWW-Authenticate...)
	Body   []byte      // the body's first bytes (up to 1 KiB), as sent
}

// Error gives the status only: a body may echo what the request carried.
func (e *HandshakeError) Error() string {
	s := "wsclient: handshake refused: status " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	return s
}

// sanitize keeps server-supplied text printable (see internal/printable),
// without the spaces at its ends.
func sanitize(s string) string { return strings.TrimSpace(printable.Clean(s)) }
