package firehose

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// One event model for every transport: an Event gives its typed record
// (Record), and an Event from gRPC renders itself as the JSON line the HTTP
// channel would carry (JSON, Payload, Decode).

// ErrUnknownType is the class of *UnknownTypeError; test with errors.Is.
var ErrUnknownType = errors.New("firehose: event type not in the proto's EventType enum")

// UnknownTypeError is returned by Event.Record, together with the record,
// when the event's type is not one of the proto's EventType values: a type
// newer than the proto (SPACE_OCCUPANCY, BLE_RSSI_UPDATE…) or, from gRPC, an
// enum number the proto does not name (EVENT_TYPE_<n>).
type UnknownTypeError struct {
	Type EventType // the event's type as delivered
}

func (e *UnknownTypeError) Error() string {
	return "firehose: event type " + strconv.Quote(string(e.Type)) + " is not in the proto's EventType enum"
}

// Is makes errors.Is(err, ErrUnknownType) true.
func (e *UnknownTypeError) Is(target error) bool { return target == ErrUnknownType }

// Record returns the event as a typed record of the gRPC proto, whatever the
// transport it came over: for gRPC the record received (its bytes decoded on
// each call), for HTTP and WebSocket the JSON line decoded with protojson,
// unknown fields skipped and int64 values accepted as numbers or strings.
// Each call returns a new record, which the caller owns.
//
// When the event's type is not one of the proto's EventType values, Record
// returns the record and an *UnknownTypeError (errors.Is(err,
// ErrUnknownType)). The record's EventType is then never 0, which would read
// as DEVICE_ENTRY: it is the number received over gRPC (n for EVENT_TYPE_<n>,
// over JSON too), else -1. Its payload is not in the record (the proto has no
// field for it); Payload and Decode still give it.
//
// Limitation: a payload enum value whose name the proto does not know (from
// JSON, e.g. "deviceType":"IOT_UWB_TAG") reads as that enum's zero value in
// the record (IOT_DEVICE_UNKNOWN); Payload and Decode keep the name. Over
// gRPC, an unknown enum number is kept as that number.
//
// Any other error means the bytes do not decode as an EventRecord; the
// record is then nil.
func (e *Event) Record() (*firehosev1.EventRecord, error) {
	var rec *firehosev1.EventRecord
	if e.format == formatProto {
		if r, ok := e.ext.record.(*firehosev1.EventRecord); ok {
			rec = proto.CloneOf(r)
		} else {
			rec = new(firehosev1.EventRecord)
			if err := proto.Unmarshal(e.raw, rec); err != nil {
				return nil, fmt.Errorf("firehose: decoding the record: %w", err)
			}
		}
		if _, known := firehosev1.EventType_name[int32(rec.EventType)]; !known {
			return rec, &UnknownTypeError{Type: e.typ}
		}
		return rec, nil
	}
	rec = new(firehosev1.EventRecord)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(e.raw, rec); err != nil {
		return nil, fmt.Errorf("firehose: decoding the record: %w", err)
	}
	if _, known := firehosev1.EventType_value[string(e.typ)]; !known {
		// DiscardUnknown made the unknown name 0 (DEVICE_ENTRY): undo that.
		rec.EventType = -1
		if n, ok := strings.CutPrefix(string(e.typ), "EVENT_TYPE_"); ok {
			if v, err := strconv.ParseInt(n, 10, 32); err == nil {
				rec.EventType = firehosev1.EventType(v)
			}
		}
		return rec, &UnknownTypeError{Type: e.typ}
	}
	return rec, nil
}

// renderProto renders a gRPC event in the shape of the HTTP channel's line:
// the six envelope keys first, in wire order and always present, then the
// payload key (the oneof field's lowerCamel JSON name) and the payload with
// scalars and repeated fields present even at their defaults, unset
// sub-messages absent, enums as names (an unknown number as a number), int64
// as plain numbers, floats with a decimal point. A record whose payload does
// not decode renders as its envelope alone; fields the proto does not know
// are not rendered.
//
// The record's bytes are rendered straight from the wire (grpc_render.go);
// a record the walker refuses, or one received decoded (the standard codec),
// is rendered by renderProtoReference.
func renderProto(e *Event) (line, payload []byte) {
	if e.ext.record == nil {
		b := make([]byte, 0, protoJSONSizeHint(len(e.raw)))
		if line, start, ok := appendProtoJSON(b, e.raw, e.id, e.ts, e.tenantID, e.tenantName, e.partnerID, string(e.typ)); ok {
			if start > 0 {
				payload = line[start : len(line)-1 : len(line)-1]
			}
			return line[:len(line):len(line)], payload
		}
	}
	return renderProtoReference(e)
}

// protoJSONSizeHint is the output buffer's capacity for a record of n bytes:
// its JSON is rarely more than twice its size plus the envelope's keys.
func protoJSONSizeHint(n int) int { return 2*n + 256 }

// appendProtoEnvelope appends the six envelope keys, in wire order, always
// present, after an opening brace.
func appendProtoEnvelope(b []byte, id string, ts int64, tenantID, tenantName, partnerID, typ string) []byte {
	b = append(b, `{"recordUid":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"recordTimestamp":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"spacesTenantId":`...)
	b = appendJSONString(b, tenantID)
	b = append(b, `,"spacesTenantName":`...)
	b = appendJSONString(b, tenantName)
	b = append(b, `,"partnerTenantId":`...)
	b = appendJSONString(b, partnerID)
	b = append(b, `,"eventType":`...)
	return appendJSONString(b, typ)
}

// appendProtoJSON appends the whole line of the serialized record raw,
// rendered from the wire: the envelope, then the payload. start is where the
// payload's value begins in the result (0: none); ok is false when the
// walker refuses the record (the result is then to be dropped).
func appendProtoJSON(b, raw []byte, id string, ts int64, tenantID, tenantName, partnerID, typ string) (line []byte, start int, ok bool) {
	b = appendProtoEnvelope(b, id, ts, tenantID, tenantName, partnerID, typ)
	b, start, ok = appendPayloadFromWire(b, raw)
	return append(b, '}'), start, ok
}

// renderProtoReference is renderProto by proto.Unmarshal into messages and a
// protoreflect walk: the reference the wire walker is tested against, and
// its fallback.
func renderProtoReference(e *Event) (line, payload []byte) {
	b := make([]byte, 0, protoJSONSizeHint(len(e.raw)))
	b = appendProtoEnvelope(b, e.id, e.ts, e.tenantID, e.tenantName, e.partnerID, string(e.typ))
	rec, ok := e.ext.record.(*firehosev1.EventRecord)
	if !ok {
		rec = new(firehosev1.EventRecord)
		if err := proto.Unmarshal(e.raw, rec); err != nil {
			rec = nil
		}
	}
	if rec != nil {
		m := rec.ProtoReflect()
		if fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("event")); fd != nil {
			b = append(b, ',')
			b = appendJSONString(b, fd.JSONName())
			b = append(b, ':')
			start := len(b)
			b = appendMessageJSON(b, m.Get(fd).Message())
			payload = b[start:len(b):len(b)]
		}
	}
	b = append(b, '}')
	return b[:len(b):len(b)], payload
}

// appendMessageJSON renders m as protojson would with EmitDefaultValues,
// except that 64-bit integers are plain numbers and floats keep a decimal
// point: fields in declaration order, those without presence (scalars,
// repeated, maps) always, those with presence (sub-messages, oneof members)
// only when set.
func appendMessageJSON(b []byte, m protoreflect.Message) []byte {
	fds := m.Descriptor().Fields()
	b = append(b, '{')
	first := true
	for i := range fds.Len() {
		fd := fds.Get(i)
		if fd.HasPresence() && !m.Has(fd) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, fd.JSONName())
		b = append(b, ':')
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			b = append(b, '[')
			for j := range l.Len() {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendValueJSON(b, fd, l.Get(j))
			}
			b = append(b, ']')
		case fd.IsMap():
			b = appendMapJSON(b, fd, v.Map())
		default:
			b = appendValueJSON(b, fd, v)
		}
	}
	return append(b, '}')
}

func appendMapJSON(b []byte, fd protoreflect.FieldDescriptor, mp protoreflect.Map) []byte {
	type entry struct {
		k string
		v protoreflect.Value
	}
	entries := make([]entry, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		entries = append(entries, entry{k.String(), v})
		return true
	})
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.k, b.k) })
	b = append(b, '{')
	for i, en := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, en.k)
		b = append(b, ':')
		b = appendValueJSON(b, fd.MapValue(), en.v)
	}
	return append(b, '}')
}

func appendValueJSON(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.AppendInt(b, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.AppendUint(b, v.Uint(), 10)
	case protoreflect.FloatKind:
		return appendJSONFloat(b, v.Float(), 32)
	case protoreflect.DoubleKind:
		return appendJSONFloat(b, v.Float(), 64)
	case protoreflect.StringKind:
		return appendJSONString(b, v.String())
	case protoreflect.BytesKind:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes())
		return append(b, '"')
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return appendJSONString(b, string(ev.Name()))
		}
		return strconv.AppendInt(b, int64(v.Enum()), 10)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return appendMessageJSON(b, v.Message())
	}
	return append(b, "null"...)
}

// appendJSONFloat writes a float as the HTTP channel does: with a decimal
// point ("328.0"), the shortest form that reads back to the same float32 or
// float64, an exponent only for very large or small magnitudes; NaN and the
// infinities as protojson's strings.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// 1e-07 → 1e-7, as encoding/json writes it.
		if n := len(b); n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	if bytes.IndexByte(b[start:], '.') < 0 {
		b = append(b, ".0"...)
	}
	return b
}

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
