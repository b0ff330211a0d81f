package firehose

import (
	"bytes"

	"github.com/firehose-go/firehose/internal/envelope"
)

// What Cisco's three channels add to a Frame: the scanned envelope (tenant
// fields, payload key) and, for gRPC, the record's own form.

// format tells what the bytes of an event are.
type format uint8

const (
	formatFrame format = iota // a Source's frame: only the common core
	formatJSON                // one Cisco NDJSON line (HTTP, WebSocket)
	formatProto               // one serialized Cisco EventRecord (gRPC)
)

type ciscoFrame struct {
	env    envelope.Envelope
	format format
	record any // a transport's own decoded form, when it has one (owned)
}

var keepAliveName = []byte(KeepAlive)

// publish fills the frame's common core from the scanned envelope: Cisco's
// KEEP_ALIVE is liveness, everything else an event.
func (f *Frame) publish() {
	env := &f.cisco.env
	f.ID, f.Timestamp, f.Type, f.Payload = env.ID, env.Timestamp, env.Type, env.Payload
	f.Kind = FrameEvent
	if bytes.Equal(env.Type, keepAliveName) {
		f.Kind = FrameLiveness
	}
}

// scanJSON fills f from one JSON line (HTTP and WebSocket share it).
func scanJSON(f *Frame, line []byte) error {
	f.Raw, f.cisco.format, f.cisco.record = line, formatJSON, nil
	if err := envelope.Scan(line, &f.cisco.env); err != nil {
		return &FrameError{Reason: DropMalformed, Size: len(line), Err: err}
	}
	f.publish()
	return nil
}
