package firehose

import (
	"context"
	"time"

	"github.com/firehose-go/firehose/internal/envelope"
)

// The seam between the engine and the channels. A transport knows only how to
// connect and how to produce the next frame; everything else (replay, dedupe,
// keep-alives, idle detection, backoff, checkpoints) is the engine's, so every
// channel gets the same guarantees.

// connector opens connections for one receiver. Each receiver has its own
// connector, hence its own TCP connection.
type connector interface {
	connect(ctx context.Context, req request) (conn, error)
	close() // releases what the connector pools (idle connections, a ClientConn)
}

// conn is one open connection. Its methods are called from one goroutine.
type conn interface {
	// next reads the next frame into f; f's bytes stay valid until the next
	// call. A *frameError is about that frame alone (the connection goes on);
	// any other error ends the connection.
	next(f *frame) error
	// serverTime is the server's clock when the connection opened (the HTTP
	// Date header), or the zero time when unknown.
	serverTime() time.Time
	close()
}

// request is what every channel sends: the partitions and the resume point.
type request struct {
	rng        Range
	from       int64 // epoch ms; 0 = live
	replicaID  int
	hasReplica bool
}

// frame is one event as read off the wire, its envelope scanned, its bytes
// still the transport's.
type frame struct {
	raw    []byte // a JSON line, or a serialized EventRecord
	env    envelope.Envelope
	format format
	record any // a transport's own decoded form, when it has one (owned)
}

type frameErrorKind uint8

const (
	badMalformed frameErrorKind = iota // not an event: syntax, missing recordUid/recordTimestamp/eventType
	badOversized                       // larger than the max event size, skipped in bounded memory
	badTorn                            // the stream ended inside a line
	badBinary                          // a WebSocket binary message
	badEmpty                           // an empty message
)

func (k frameErrorKind) String() string {
	switch k {
	case badMalformed:
		return "malformed"
	case badOversized:
		return "oversized"
	case badTorn:
		return "torn"
	case badBinary:
		return "binary"
	case badEmpty:
		return "empty"
	}
	return "bad"
}

// frameError reports one frame that could not be delivered; the connection
// stays usable and nothing else is lost.
type frameError struct {
	kind frameErrorKind
	size int
	err  error
}

func (e *frameError) Error() string {
	s := "firehose: " + e.kind.String() + " frame dropped"
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *frameError) Unwrap() error { return e.err }

// scanJSON fills f from one JSON line (HTTP and WebSocket share it).
func scanJSON(f *frame, line []byte) error {
	f.raw, f.format, f.record = line, formatJSON, nil
	if err := envelope.Scan(line, &f.env); err != nil {
		return &frameError{kind: badMalformed, size: len(line), err: err}
	}
	return nil
}
