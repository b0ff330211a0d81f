package firehose

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"
)

// Source is the seam every firehose plugs into: it opens the connections of
// one receiver and turns what arrives into frames. Everything else — replay,
// the duplicate window, the idle watchdog, backoff, checkpoints, Stats, hooks,
// receiver groups — is the engine's, so a Source written outside this
// package (octave, callevents, a user's own) gets the same Stream and the
// same guarantees as Cisco's three channels, which are Sources too.
//
// The engine makes one Source per receiver (SourceSpec.New) and calls it
// from that receiver's delivery goroutine only.
//
// Connect opens one connection for req. It MUST return a nil error if and
// only if it returns a usable Conn. It SHOULD return as soon as the
// connection is established (a handshake answered), not after a first event,
// so that the idle clock and Open's bound apply to what follows. It MUST
// give up when ctx ends — the engine ends ctx for an idle timeout, for Close
// and when the caller's context ends — and SHOULD then return
// context.Cause(ctx). Its error is classified by the engine:
//
//   - errors.Is(err, ErrFatal) ends the stream (use Fatal, or a *StatusError
//     for 400, 401, 403 or 404), unless the error was wrapped by Retry;
//   - a *StatusError with Code 429 (or an error wrapping ErrTryLater) waits
//     for its RetryAfter, or at least DefaultRateLimitFloor;
//   - anything else is retried with exponential backoff.
//
// Connect SHOULD NOT retry by itself: one call, one attempt. A source that
// needs a fresh attempt before a fatal answer (a login to redo after a 401)
// returns Retry(err) once and keeps that state for the next call.
//
// Close releases what the source pools (idle connections, a ClientConn). The
// engine calls it once, after the last Conn was closed.
type Source interface {
	Connect(ctx context.Context, req ConnectRequest) (Conn, error)
	Close() error
}

// Conn is one open connection of a Source. Its methods are called from one
// goroutine, the receiver's, never concurrently with each other; a Conn that
// also writes (subscriptions, heartbeats) or reads in the background owns
// those goroutines and stops them in Close.
//
// Next reads the next frame into f, overwriting every field, and returns
// nil; f's byte slices may alias the Conn's buffers and MUST stay valid until
// the next call to Next or Close, and no longer need to. Next blocks until a
// frame arrives, the connection ends, or the ctx given to Connect ends (it
// MUST then return promptly, preferably context.Cause of that ctx).
//
// Every frame Next returns is liveness: the idle clock restarts. A Conn says
// what else counts by calling ConnectRequest.Alive (a pong on a socket whose
// silence is normal), and what does not by not returning it (Cisco's
// channels never count a pong: only data proves the firehose).
//
// Next's error decides what happens to the connection:
//
//   - a *FrameError is about one frame alone (malformed, oversized, torn);
//     it is counted and logged, and the connection goes on;
//   - a *GapError reports events the source knows it cannot deliver (its
//     history evicted them); it is counted and reported, and the connection
//     goes on;
//   - any other error ends the connection: io.EOF for a clean end by the
//     server, errors.Is(err, ErrFatal) to end the stream, anything else to
//     reconnect with backoff.
//
// Close ends the connection and waits for the goroutines the Conn started.
// It is called exactly once, also after Next returned an error.
type Conn interface {
	Next(f *Frame) error
	Close() error
}

// ServerClock is implemented by a Conn that knows the server's clock at the
// moment it opened (an HTTP Date header). A live start uses it, rather than
// the local clock, to decide where to replay from if the connection drops
// before its first event.
type ServerClock interface {
	ServerTime() time.Time
}

// FrameKind tells the engine what a frame is.
type FrameKind uint8

const (
	// FrameEvent is an event: deduplicated on (ID, Timestamp) and delivered.
	FrameEvent FrameKind = iota
	// FrameLiveness proves the firehose alive and carries nothing to deliver
	// (Cisco's KEEP_ALIVE, a heartbeat reply). It is counted in
	// Stats.KeepAlives and gives a quiet stream the chance to checkpoint.
	FrameLiveness
	// FrameControl is protocol traffic (an acknowledgement, a reply): neither
	// delivered nor counted as a keep-alive.
	FrameControl
)

// Frame is one unit a Conn reads: an event, liveness, or control traffic.
// For an event, ID must be non-empty (a frame without an id cannot be
// deduplicated: report it as a *FrameError instead). The byte slices belong
// to the Conn (see Conn.Next); the engine copies what it keeps.
type Frame struct {
	Kind      FrameKind
	ID        []byte // the id to deduplicate on, with Timestamp
	Timestamp int64  // epoch milliseconds
	Type      []byte // the event type, an open set of names
	Raw       []byte // the event as received: Event.JSON
	Payload   []byte // the part Event.Decode unmarshals; nil: none

	cisco ciscoFrame // the Cisco channels' extras (tenant fields, gRPC records)
}

// Resume says how a source picks up after a reconnect.
type Resume uint8

const (
	// ResumeNone: the firehose cannot replay. Every reconnect is reported as
	// a *GapError (GapNoReplay) carrying its downtime; the duplicate window
	// still drops what a server sends twice.
	ResumeNone Resume = iota
	// ResumeTimestamp: the firehose replays from a timestamp (Cisco's
	// fromTimestamp). The engine puts the resume point in
	// ConnectRequest.From: the watermark minus the replay margin, clamped to
	// the replay window, and checks that the replay starts where it asked.
	ResumeTimestamp
	// ResumeSource: the source resumes by itself (Octave's gap-fill over
	// REST); From is always 0. A source that implements Cursor has its
	// position saved with every checkpoint.
	ResumeSource
)

// ConnectRequest is what the engine asks of one connection.
type ConnectRequest struct {
	Range Range // the receiver's partition range
	// From is the resume point in epoch ms for a ResumeTimestamp source
	// (0: start live); always 0 for the other policies.
	From int64
	// Reconnect is false for the stream's first connection.
	Reconnect bool
	// Alive restarts the idle clock without a frame; safe from any goroutine
	// and cheap (an atomic add). A Conn calls it for the signals it counts as
	// liveness besides frames, such as a WebSocket pong.
	Alive func()
}

// SourceConfig is what the engine passes to SourceSpec.New for each receiver:
// the client's options that a source should honour.
type SourceConfig struct {
	Range        Range
	MaxEventSize int           // a frame larger than this is a *FrameError (DropOversized)
	IdleTimeout  time.Duration // silence past this drops the connection
	Logger       *slog.Logger  // never nil; silent unless the user set one
	// Dial dials the network (WithDialer); nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig is the user's (WithTLSConfig) or nil. Clone it before use.
	TLSConfig *tls.Config
}

// SourceSpec describes a firehose to the engine: WithSource installs it.
type SourceSpec struct {
	// Name names the source in Stats, logs and ConnectInfo ("octave").
	Name string
	// Resume is how the source picks up after a reconnect.
	Resume Resume
	// New makes the Source of one receiver. It is called once per receiver
	// when a stream is opened, and must do no I/O.
	New func(SourceConfig) (Source, error)
	// Secrets are strings (tokens, passwords) that must never appear in
	// anything the engine shows: server-supplied text that echoes one is
	// redacted before it reaches Stats, logs, hooks or errors.
	Secrets []string
}

// Cursor is implemented by a ResumeSource source whose position must survive
// a restart (Octave's newest creationDate per stream). SaveCursor is called on
// the delivery goroutine between two events, when every frame the source has
// returned has been finished by the caller, so the position it returns is
// safe to resume from; the engine stores the bytes with the checkpoint.
// LoadCursor is called once, before the first Connect, with the bytes of a
// checkpoint; an error from it is a corrupt checkpoint and ends the stream.
type Cursor interface {
	SaveCursor() []byte
	LoadCursor(b []byte) error
}

// WithSource makes the client consume the firehose spec describes instead of
// Cisco Spaces. The Cisco-only options (WithAPIKey, WithEndpoint, WithRegion,
// WithTransport, WithReplicaID, WithCompression, WithHTTPClient) do not apply
// and are rejected with it; every engine option does.
func WithSource(spec SourceSpec) Option {
	return func(c *config) error {
		if spec.New == nil {
			return errorf("WithSource: SourceSpec.New is nil")
		}
		if spec.Name == "" {
			return errorf("WithSource: SourceSpec.Name is empty")
		}
		if spec.Resume > ResumeSource {
			return errorf("WithSource: unknown Resume %d", spec.Resume)
		}
		s := spec
		s.Secrets = append([]string(nil), spec.Secrets...)
		c.source = &s
		return nil
	}
}

// OptionError is an Option that makes New fail with err. A source package's
// option constructor uses it when its own configuration is invalid
// (octave.Source with no company), so the mistake surfaces from New, as every
// other bad option does, rather than from the first Open.
func OptionError(err error) Option {
	return func(*config) error {
		if err == nil {
			return errorf("OptionError(nil)")
		}
		return err
	}
}
