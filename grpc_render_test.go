package firehose

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/proto/firehosev1"
)

// renderBoth renders the serialized record raw with the wire walker and with
// the reference; fast is nil when the walker refuses it. It reports false
// when the envelope scan refuses raw (no Event is made of it).
func renderBoth(raw []byte) (fast, fastPayload, ref, refPayload []byte, ok bool) {
	f := Frame{Raw: bytes.Clone(raw)}
	f.cisco.format = formatProto
	if scanRecord(f.Raw, &f.cisco.env, newRecordNames()) != nil {
		return nil, nil, nil, nil, false
	}
	e := newProtoEvent(&f)
	ref, refPayload = renderProtoReference(e)
	line, start, accepted := appendProtoJSON(nil, e.raw, e.id, e.ts, e.tenantID, e.tenantName, e.partnerID, string(e.typ))
	if accepted {
		fast = line
		if start > 0 {
			fastPayload = line[start : len(line)-1]
		}
	}
	// What Event.JSON gives must be the reference in every case.
	if got, gotPayload := renderProto(e); !bytes.Equal(got, ref) || !bytes.Equal(gotPayload, refPayload) {
		panic("renderProto differs from the reference:\n" + string(got) + "\n" + string(ref))
	}
	return fast, fastPayload, ref, refPayload, true
}

// sameJSONValue reports whether a and b are equal as JSON values.
func sameJSONValue(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// checkRender fails t unless the walker renders raw as the reference does,
// byte for byte (hence as a JSON value); mustAccept: and does not refuse it.
func checkRender(t testing.TB, raw []byte, mustAccept bool) {
	t.Helper()
	fast, fastPayload, ref, refPayload, ok := renderBoth(raw)
	if !ok {
		return
	}
	if fast == nil {
		if mustAccept {
			t.Fatalf("the walker refused a canonical record: %x\nreference: %s", raw, ref)
		}
		return
	}
	if !sameJSONValue(fast, ref) {
		t.Fatalf("different JSON values:\nwalker:    %s\nreference: %s\nrecord: %x", fast, ref, raw)
	}
	if !bytes.Equal(fast, ref) || !bytes.Equal(fastPayload, refPayload) {
		t.Fatalf("different bytes:\nwalker:    %s\nreference: %s", fast, ref)
	}
}

// fillAll sets every field of m (and of its sub-messages, to depth) to a
// value other than its default; for a oneof, member pick (mod its count).
func fillAll(m protoreflect.Message, depth, pick int) {
	md := m.Descriptor()
	fds := md.Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
			if o.Fields().Get(pick%o.Fields().Len()) != fd {
				continue
			}
		}
		if fd.Kind() == protoreflect.MessageKind {
			if depth <= 0 {
				continue
			}
			if fd.IsList() {
				l := m.Mutable(fd).List()
				for range 2 {
					e := l.NewElement()
					fillAll(e.Message(), depth-1, pick+1)
					l.Append(e)
				}
				continue
			}
			fillAll(m.Mutable(fd).Message(), depth-1, pick)
			continue
		}
		if fd.IsList() {
			l := m.Mutable(fd).List()
			l.Append(sampleValue(fd, i))
			l.Append(sampleValue(fd, i+1))
			continue
		}
		m.Set(fd, sampleValue(fd, i))
	}
}

func sampleValue(fd protoreflect.FieldDescriptor, i int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(-7 * (i + 1)))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(1714450000123 + int64(i))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(i + 3))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(math.MaxUint64 - uint64(i))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(i) + 0.1)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(-1e-7 * float64(i+1))
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("s\"é\n" + string(fd.Name()))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{0, 1, 2, byte(i)})
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vals.Get((i + 1) % vals.Len()).Number())
	}
	panic("no sample for " + fd.Kind().String())
}

// everyPayloadRecord returns records of every payload member, each filled
// in full and each empty, plus the envelope alone.
func everyPayloadRecord() []*firehosev1.EventRecord {
	var out []*firehosev1.EventRecord
	md := (*firehosev1.EventRecord)(nil).ProtoReflect().Descriptor()
	od := md.Oneofs().ByName("event")
	out = append(out, &firehosev1.EventRecord{RecordUid: "u-0", RecordTimestamp: 1})
	for i := range od.Fields().Len() {
		fd := od.Fields().Get(i)
		for _, depth := range []int{0, 3} {
			for pick := range 3 {
				rec := &firehosev1.EventRecord{RecordUid: "u-1", RecordTimestamp: 1714450000000, SpacesTenantId: "t",
					SpacesTenantName: "T", PartnerTenantId: "p", EventType: firehosev1.EventType(i % 27)}
				m := rec.ProtoReflect()
				fillAll(m.Mutable(fd).Message(), depth, pick)
				out = append(out, rec)
			}
		}
	}
	return out
}

// logRecords is every event of firehosetest's log as the record its gRPC
// channel sends.
func logRecords(t testing.TB) [][]byte {
	srv := firehosetest.NewServer(firehosetest.WithHistory(600, time.Minute), firehosetest.WithUnknownTypes(true))
	defer srv.Close()
	var out [][]byte
	for _, e := range srv.Log().Events(1, firehosetest.NumPartitions) {
		var rec firehosev1.EventRecord
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(e.Line, &rec); err != nil {
			t.Fatalf("%v: %s", err, e.Line)
		}
		out = append(out, mustMarshal(&rec))
	}
	return out
}

// TestGRPCRenderEveryType: on every payload type (every field set, and
// every field at its default) and on firehosetest's whole log, the walker
// accepts the record and renders the reference's bytes.
func TestGRPCRenderEveryType(t *testing.T) {
	for _, rec := range everyPayloadRecord() {
		checkRender(t, mustMarshal(rec), true)
	}
	types := map[string]bool{}
	for _, raw := range logRecords(t) {
		checkRender(t, raw, true)
		ev := protoEventOf(t, raw)
		types[string(ev.Type())] = true
	}
	if len(types) < 10 {
		t.Fatalf("the log covers only %d types: %v", len(types), types)
	}
}

// TestGRPCRenderWireForms: records no canonical encoder makes, or makes
// differently — each rendered as the reference renders it (by the walker or,
// where it refuses, by the reference itself).
func TestGRPCRenderWireForms(t *testing.T) {
	env := func() []byte {
		return mustMarshal(&firehosev1.EventRecord{RecordUid: "u", RecordTimestamp: 5, EventType: firehosev1.EventType_DEVICE_ENTRY})
	}
	device := func(b []byte) []byte { // DeviceEntry{device: Device{b}} as field 7
		de := protowire.AppendTag(nil, 1, protowire.BytesType)
		de = protowire.AppendBytes(de, b)
		out := env()
		out = protowire.AppendTag(out, 7, protowire.BytesType)
		return protowire.AppendBytes(out, de)
	}
	varint := func(b []byte, num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
	}
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	packed := func(b []byte, num protowire.Number, vs ...uint64) []byte {
		var p []byte
		for _, v := range vs {
			p = protowire.AppendVarint(p, v)
		}
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), p)
	}
	deep := func(n int) []byte { // Location with n parents, in DeviceEntry.location
		var loc []byte
		for i := range n {
			next := str(nil, 1, "l")
			if i > 0 {
				next = protowire.AppendBytes(protowire.AppendTag(next, 4, protowire.BytesType), loc)
			}
			loc = next
		}
		de := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), loc)
		return protowire.AppendBytes(protowire.AppendTag(env(), 7, protowire.BytesType), de)
	}
	cases := []struct {
		name   string
		raw    []byte
		accept bool
	}{
		{"repeated enum unpacked", device(varint(varint(nil, 10, 1), 10, 2)), true},
		{"repeated enum packed", device(packed(nil, 10, 0, 2, 1)), true},
		{"repeated enum packed and unpacked mixed", device(varint(packed(varint(nil, 10, 2), 10, 0, 1), 10, 2)), true},
		{"enum number unknown", device(varint(varint(nil, 6, 99), 16, 1<<40)), true},
		{"repeated enum unknown number", device(packed(nil, 10, 7, 1)), true},
		{"negative int32 as ten bytes", protowire.AppendBytes(protowire.AppendTag(env(), 7, protowire.BytesType), varint(nil, 8, uint64(1<<64-3))), true},
		{"int32 above 32 bits (truncated)", protowire.AppendBytes(protowire.AppendTag(env(), 7, protowire.BytesType), varint(nil, 8, 1<<33+5)), true},
		{"unknown fields skipped", device(str(varint(str(nil, 999, "x"), 500, 1), 1, "dev")), true},
		{"known number, other wire type", device(varint(str(nil, 16, "notanenum"), 1, 3)), true},
		{"scalar twice: the last wins", device(str(str(nil, 1, "a"), 1, "b")), true},
		{"repeated strings around other fields", device(str(str(str(nil, 3, "t1"), 1, "d"), 3, "t2")), true},
		{"singular message twice (merged)", func() []byte {
			de := str(nil, 3, "v")
			b := protowire.AppendBytes(protowire.AppendTag(env(), 7, protowire.BytesType), de)
			return protowire.AppendBytes(protowire.AppendTag(b, 7, protowire.BytesType), str(nil, 6, "tz"))
		}(), false},
		{"two payload members (the last wins)", func() []byte {
			b := protowire.AppendBytes(protowire.AppendTag(env(), 7, protowire.BytesType), str(nil, 3, "v"))
			return protowire.AppendBytes(protowire.AppendTag(b, 8, protowire.BytesType), str(nil, 3, "w"))
		}(), false},
		{"invalid UTF-8 in the payload", device(str(nil, 1, "\xff")), false},
		{"invalid UTF-8 in an unknown field", device(str(nil, 900, "\xff")), true},
		{"invalid UTF-8 in the envelope", append(str(nil, 3, "\xfe"), env()...), false},
		{"truncated varint in the payload", protowire.AppendBytes(protowire.AppendTag(env(), 7, protowire.BytesType), []byte{0x40, 0xff}), false},
		{"malformed sub-message", device([]byte{0x0a, 0x05, 0x01}), false},
		{"deep location parents", deep(renderMaxDepth + 5), false},
		{"location parents within the depth", deep(20), true},
		{"floats: NaN, infinities, -0, tiny, huge", func() []byte {
			dl := &firehosev1.DeviceLocation{XPos: float32(math.NaN()), YPos: float32(math.Inf(-1)), ConfidenceFactor: math.Copysign(0, -1),
				Latitude: 1e-300, Longitude: 1e300, Unc: 3.4e38}
			return mustMarshal(&firehosev1.EventRecord{RecordUid: "u", RecordTimestamp: 1, Event: &firehosev1.EventRecord_DeviceLocationUpdate{DeviceLocationUpdate: dl}})
		}(), true},
		{"bytes and oneof strings", mustMarshal(&firehosev1.EventRecord{RecordUid: "u", RecordTimestamp: 1, Event: &firehosev1.EventRecord_IotTelemetry{
			IotTelemetry: &firehosev1.IOTTelemetry{RawPayload: []byte("\x00\xff=="), EddyStone: &firehosev1.IOTTelemetry_Eddystone{Frame: &firehosev1.IOTTelemetry_Eddystone_Url{Url: "http://x"}}},
		}}), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fast, _, ref, _, ok := renderBoth(c.raw)
			if !ok {
				t.Fatalf("the envelope scan refused the case: %x", c.raw)
			}
			if c.accept && fast == nil {
				t.Fatalf("the walker refused it; reference: %s", ref)
			}
			checkRender(t, c.raw, c.accept)
		})
	}
}

// FuzzGRPCRenderDifferential: random records rendered both ways agree. The
// input itself (when the envelope scan takes it) and the valid record made
// of it (proto.Unmarshal with DiscardUnknown, envelope completed,
// re-marshalled: a canonical encoding, which the walker must not refuse
// unless it nests deeper than renderMaxDepth).
func FuzzGRPCRenderDifferential(f *testing.F) {
	for _, rec := range everyPayloadRecord() {
		f.Add(mustMarshal(rec))
	}
	for i, raw := range logRecords(f) {
		if i%7 == 0 {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkRender(t, in, false)
		var rec firehosev1.EventRecord
		if (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(in, &rec) != nil {
			return
		}
		if rec.RecordUid == "" {
			rec.RecordUid = "u"
		}
		if rec.RecordTimestamp == 0 {
			rec.RecordTimestamp = 1
		}
		raw := mustMarshal(&rec)
		fast, _, ref, _, ok := renderBoth(raw)
		if !ok {
			t.Fatalf("the envelope scan refused a valid record: %x", raw)
		}
		if fast == nil && locationDepth(rec.ProtoReflect()) <= renderMaxDepth-2 {
			t.Fatalf("the walker refused a canonical record: %x\nreference: %s", raw, ref)
		}
		checkRender(t, raw, false)
	})
}

// locationDepth is the deepest nesting of messages in m.
func locationDepth(m protoreflect.Message) int {
	d := 0
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			for i := range v.List().Len() {
				d = max(d, locationDepth(v.List().Get(i).Message()))
			}
			return true
		}
		d = max(d, locationDepth(v.Message()))
		return true
	})
	return d + 1
}

// BenchmarkGRPCRender: the JSON of one event of the log, rendered from the
// wire (walker) and by proto.Unmarshal + protoreflect (reference); ns/op and
// allocs/op are per event. "borrowed" is RunBorrowed's path, into a reused
// buffer.
func BenchmarkGRPCRender(b *testing.B) {
	var evs []*Event
	for _, raw := range logRecords(b) {
		evs = append(evs, protoEventOf(b, raw))
	}
	size := 0
	for _, e := range evs {
		size += len(e.raw)
	}
	b.Run("reference", func(b *testing.B) {
		b.SetBytes(int64(size / len(evs)))
		b.ReportAllocs()
		for i := range b.N {
			renderProtoReference(evs[i%len(evs)])
		}
	})
	b.Run("wire", func(b *testing.B) {
		b.SetBytes(int64(size / len(evs)))
		b.ReportAllocs()
		for i := range b.N {
			renderProto(evs[i%len(evs)])
		}
	})
	b.Run("wire-borrowed", func(b *testing.B) {
		b.SetBytes(int64(size / len(evs)))
		b.ReportAllocs()
		var buf []byte
		for i := range b.N {
			e := evs[i%len(evs)]
			line, _, ok := appendProtoJSON(buf[:0], e.raw, e.id, e.ts, e.tenantID, e.tenantName, e.partnerID, string(e.typ))
			if !ok {
				b.Fatal("refused")
			}
			buf = line
		}
	})
}
