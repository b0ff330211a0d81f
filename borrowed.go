package firehose

import (
	"context"
	"errors"
	"testing"
	"time"
)

// BorrowedEvent is an event whose bytes still belong to the read buffer: no
// copy is made. It is valid ONLY until the handler it was passed to returns;
// every []byte it gives aliases memory that the next read overwrites. Keep
// nothing from it: copy what you need (append([]byte(nil), b...)), or call
// Owned. It deliberately offers no string views: a string that changed under
// a map key would be silent corruption. Under `go test` the bytes are
// overwritten with a poison pattern as soon as the handler returns, so
// misuse fails tests loudly instead of corrupting data in production.
type BorrowedEvent struct {
	s *stream
}

// ID is recordUid. Borrowed: valid until the handler returns.
func (b *BorrowedEvent) ID() []byte { return b.s.f.ID }

// Timestamp is recordTimestamp in epoch ms.
func (b *BorrowedEvent) Timestamp() int64 { return b.s.f.Timestamp }

// Time is Timestamp as a time.Time.
func (b *BorrowedEvent) Time() time.Time { return time.UnixMilli(b.s.f.Timestamp) }

// Type is eventType. Documented types cost nothing; an unknown type's name is
// copied into a new string (it is safe to keep).
func (b *BorrowedEvent) Type() EventType {
	if t, ok := internType(b.s.f.Type); ok {
		return t
	}
	return EventType(b.s.f.Type)
}

// JSON is the event as received (for gRPC, rendered into a buffer the
// stream reuses). Borrowed.
func (b *BorrowedEvent) JSON() []byte {
	if b.s.f.cisco.format == formatProto {
		line, _ := b.s.borrowedJSON()
		return line
	}
	return b.s.f.Raw
}

// Payload is the raw payload object (nil when none). Borrowed.
func (b *BorrowedEvent) Payload() []byte {
	if b.s.f.cisco.format == formatProto {
		_, payload := b.s.borrowedJSON()
		return payload
	}
	return b.s.f.Payload
}

// Range is the partition range of the receiver that delivered the event.
func (b *BorrowedEvent) Range() Range { return b.s.rng }

// Source names the source that delivered it ("http", "ws", "grpc", "octave", ...).
func (b *BorrowedEvent) Source() string { return b.s.spec.Name }

// Owned copies the event into an Event the caller may keep.
func (b *BorrowedEvent) Owned() *Event { return b.s.event() }

// BorrowedHandler processes a borrowed event; see BorrowedEvent for the rules.
type BorrowedHandler func(ctx context.Context, ev *BorrowedEvent) error

// RunBorrowed is Run without the copy: the fastest path, for handlers that
// consume the bytes before returning (write them out, parse them, forward
// them). Same guarantees, same options as Run, including WithReceivers.
func (c *Client) RunBorrowed(ctx context.Context, h BorrowedHandler) error {
	if h == nil {
		return errors.New("firehose: nil handler")
	}
	return c.run(ctx, func(ctx context.Context, s *stream) error {
		b := &BorrowedEvent{s: s}
		for {
			if _, err := s.step(ctx, false); err != nil {
				return err
			}
			s.bjson.valid = false
			err := h(ctx, b)
			if err != nil {
				s.abandon(s.f.ID, s.f.Timestamp) // before the poison: it reads the id
			}
			if poisonBorrowed {
				if s.f.cisco.format != formatProto {
					poison(s.f.Raw)
				} else if s.bjson.valid {
					poison(s.bjson.line)
				}
			}
			if err != nil {
				return err
			}
		}
	})
}

// poisonBorrowed is on under go test, so a handler that keeps borrowed bytes
// sees garbage at once.
var poisonBorrowed = testing.Testing()

func poison(b []byte) {
	if len(b) == 0 {
		return
	}
	b[0] = 0xDB
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// borrowedRender is the JSON of the current gRPC frame for RunBorrowed,
// rendered once per frame into a buffer reused from frame to frame.
type borrowedRender struct {
	valid   bool
	line    []byte
	payload []byte
	buf     []byte
}

// borrowedJSON renders the current gRPC frame's JSON on first use: from the
// wire into the stream's buffer, or (a record the walker refuses, or one
// the standard codec decoded) through an owned Event.
func (s *stream) borrowedJSON() (line, payload []byte) {
	r := &s.bjson
	if r.valid {
		return r.line, r.payload
	}
	f := &s.f
	env := &f.cisco.env
	ok := false
	if f.cisco.record == nil {
		var start int
		r.line, start, ok = appendProtoJSON(r.buf[:0], f.Raw, bytesString(env.ID), env.Timestamp,
			bytesString(env.SpacesTenantID), bytesString(env.SpacesTenantName), bytesString(env.PartnerTenantID), bytesString(env.Type))
		r.buf = r.line[:0]
		r.payload = nil
		if ok && start > 0 {
			r.payload = r.line[start : len(r.line)-1 : len(r.line)-1]
		}
	}
	if !ok {
		ev := s.event()
		r.line, r.payload = ev.JSON(), ev.Payload()
	}
	r.valid = true
	return r.line, r.payload
}
