package firehose

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/firehose-go/firehose/internal/envelope"
	"github.com/firehose-go/firehose/proto/firehosev1"
)

// The gRPC channel's records: the raw codec that keeps each message's bytes,
// the envelope scan of a serialized EventRecord (fields 1 to 6, read with
// protowire, the payload skipped), the names of its numbers, and the owned
// Event made from a frame. The payload is decoded or rendered only on
// demand (record.go, grpc_render.go).

// fillEagerEnvelope makes a frame of a decoded record, the envelope's bytes
// viewing its strings.
func fillEagerEnvelope(f *Frame, rec *firehosev1.EventRecord, names *recordNames) error {
	f.Raw, f.cisco.format, f.cisco.record = nil, formatProto, rec
	env := &f.cisco.env
	*env = envelope.Envelope{
		ID:               stringBytes(rec.RecordUid),
		Timestamp:        rec.RecordTimestamp,
		SpacesTenantID:   stringBytes(rec.SpacesTenantId),
		SpacesTenantName: stringBytes(rec.SpacesTenantName),
		PartnerTenantID:  stringBytes(rec.PartnerTenantId),
		Type:             stringBytes(names.typeName(int32(rec.EventType))),
	}
	if fd := rec.ProtoReflect().WhichOneof(names.payload); fd != nil {
		env.PayloadKey = stringBytes(fd.JSONName())
	}
	if len(env.ID) == 0 {
		return envelope.ErrMissingID
	}
	if env.Timestamp == 0 {
		return envelope.ErrMissingTimestamp
	}
	return nil
}

// recordNames maps the numbers of a serialized EventRecord to names, from
// the descriptors: the EventType enum's value names (a stable EVENT_TYPE_<n>
// for a number the proto does not name) and the payload fields' JSON names.
// Small numbers are looked up in arrays filled once.
type recordNames struct {
	types   [64]string // by enum number; "" when unnamed
	keys    [64]string // payload JSON names by field number; "" when none
	values  protoreflect.EnumValueDescriptors
	fields  protoreflect.FieldDescriptors
	payload protoreflect.OneofDescriptor
	unknown map[int32]string
}

func newRecordNames() *recordNames {
	md := (*firehosev1.EventRecord)(nil).ProtoReflect().Descriptor()
	r := &recordNames{
		values:  firehosev1.EventType(0).Descriptor().Values(),
		fields:  md.Fields(),
		payload: md.Oneofs().ByName("event"),
	}
	for i := range r.values.Len() {
		if v := r.values.Get(i); v.Number() >= 0 && int(v.Number()) < len(r.types) {
			r.types[v.Number()] = string(v.Name())
		}
	}
	for i := range r.fields.Len() {
		if fd := r.fields.Get(i); fd.ContainingOneof() == r.payload && int(fd.Number()) < len(r.keys) {
			r.keys[fd.Number()] = fd.JSONName()
		}
	}
	return r
}

func (r *recordNames) typeName(n int32) string {
	if n >= 0 && int(n) < len(r.types) {
		if s := r.types[n]; s != "" {
			return s
		}
	} else if v := r.values.ByNumber(protoreflect.EnumNumber(n)); v != nil {
		return string(v.Name())
	}
	if s, ok := r.unknown[n]; ok {
		return s
	}
	s := unknownTypeName(n)
	if r.unknown == nil {
		r.unknown = make(map[int32]string)
	}
	if len(r.unknown) < 1024 {
		r.unknown[n] = s
	}
	return s
}

// payloadKey is the JSON name of payload field num ("" if it is none).
func (r *recordNames) payloadKey(num protowire.Number) string {
	if num >= 0 && int(num) < len(r.keys) {
		return r.keys[num]
	}
	if fd := r.fields.ByNumber(num); fd != nil && fd.ContainingOneof() == r.payload {
		return fd.JSONName()
	}
	return ""
}

func unknownTypeName(n int32) string { return "EVENT_TYPE_" + strconv.Itoa(int(n)) }

// Errors of the envelope scan of a serialized EventRecord.
var errBadRecord = errors.New("not a valid EventRecord")

// scanRecord reads the envelope of a serialized EventRecord (fields 1 to 6)
// with protowire and skips the payload without decoding it. Type is the
// enum's name; PayloadKey the payload field's JSON name; Payload stays nil.
// A field with an unexpected wire type is skipped, as proto.Unmarshal would.
func scanRecord(b []byte, env *envelope.Envelope, names *recordNames) error {
	*env = envelope.Envelope{}
	var hasTS bool
	var typ int32
	var payloadKey string
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %w", errBadRecord, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num <= 5 && wt == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return fmt.Errorf("%w: %w", errBadRecord, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case 1:
				env.ID = v
			case 3:
				env.SpacesTenantID = v
			case 4:
				env.SpacesTenantName = v
			case 5:
				env.PartnerTenantID = v
			}
			continue
		case (num == 2 || num == 6) && wt == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("%w: %w", errBadRecord, protowire.ParseError(n))
			}
			b = b[n:]
			if num == 2 {
				env.Timestamp, hasTS = int64(v), true
			} else {
				typ = int32(v)
			}
			continue
		case num >= 7 && wt == protowire.BytesType:
			if k := names.payloadKey(num); k != "" {
				payloadKey = k // the oneof's last member wins, as in proto.Unmarshal
			}
		}
		n = protowire.ConsumeFieldValue(num, wt, b)
		if n < 0 {
			return fmt.Errorf("%w: %w", errBadRecord, protowire.ParseError(n))
		}
		b = b[n:]
	}
	if len(env.ID) == 0 {
		return envelope.ErrMissingID
	}
	if !hasTS {
		return envelope.ErrMissingTimestamp
	}
	env.Type = stringBytes(names.typeName(typ))
	env.PayloadKey = stringBytes(payloadKey)
	return nil
}

// protoEvent is an Event and its extras in one allocation.
type protoEvent struct {
	ev  Event
	ext eventExt
}

// newProtoEvent makes the owned Event of a gRPC frame: a copy of the
// record's bytes (the frame's are the connection's reused buffer), the
// envelope's strings viewing the copy; a decoded record (the standard codec)
// is taken over as it is.
func newProtoEvent(f *Frame) *Event {
	pe := &protoEvent{}
	ev := &pe.ev
	env := &f.cisco.env
	if len(f.Raw) > 0 {
		// append to nil allocates without zeroing what it copies over.
		ev.raw = append([]byte(nil), f.Raw...)
	}
	ev.format = formatProto
	ev.ts = env.Timestamp
	ev.id = viewIn(ev.raw, f.Raw, env.ID)
	ev.tenantID = viewIn(ev.raw, f.Raw, env.SpacesTenantID)
	ev.tenantName = viewIn(ev.raw, f.Raw, env.SpacesTenantName)
	ev.partnerID = viewIn(ev.raw, f.Raw, env.PartnerTenantID)
	ev.payloadKey = bytesString(env.PayloadKey) // a descriptor's string
	if t, ok := internType(env.Type); ok {
		ev.typ = t
	} else {
		ev.typ = EventType(bytesString(env.Type))
	}
	pe.ext.record = f.cisco.record
	pe.ext.render = renderProto
	ev.ext = &pe.ext
	return ev
}

// rawRecord receives one message under rawCodec.
type rawRecord struct {
	b    []byte // the serialized EventRecord, in the connection's reused buffer
	over int    // > 0: the message's size, above the max event size (b is nil)
}

// rawCodec keeps each received message's bytes instead of decoding them. It
// is passed per call (grpc.ForceCodecV2) and never registered: a codec
// registered as "proto" would replace grpc-go's for the whole process. Its
// name only sets the content-subtype, "application/grpc+proto".
type rawCodec struct{ max int }

func (*rawCodec) Name() string { return "proto" }

func (*rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("firehose: grpc: cannot marshal %T", v)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (c *rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch m := v.(type) {
	case *rawRecord:
		// Never an error here: grpc-go would end the stream on it. An
		// oversized message is skipped, the stream goes on.
		if n := data.Len(); n > c.max {
			m.b, m.over = nil, n
			return nil
		}
		// Into the connection's reused buffer (m.b on entry): valid until
		// the next message, as a Conn's frame may be.
		m.b = m.b[:0]
		for _, buf := range data {
			m.b = append(m.b, buf.ReadOnlyData()...)
		}
		return nil
	case proto.Message:
		return proto.Unmarshal(data.Materialize(), m)
	}
	return fmt.Errorf("firehose: grpc: cannot unmarshal into %T", v)
}
