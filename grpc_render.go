package firehose

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// The HTTP channel's JSON of a gRPC event, rendered straight from the
// record's wire bytes: protowire walks the serialized EventRecord against
// per-message tables built once from the generated descriptors (JSON keys,
// kinds, enum names, defaults), appending to one output buffer. Nothing is
// unmarshalled into messages and nothing is reflected per event.
//
// It renders exactly what renderProtoReference (record.go: proto.Unmarshal,
// then a protoreflect walk) renders — the tests compare the two on every
// documented type and on random records (FuzzGRPCRenderDifferential). Where
// the two could part, the walker refuses and the reference renders instead:
// a singular message field or a oneof seen more than once (proto.Unmarshal
// would merge or discard: never sent by a canonical encoder), any malformed
// or non-UTF-8 bytes (proto.Unmarshal fails; the reference then renders the
// envelope alone), nesting deeper than renderMaxDepth, and maps or groups
// (Cisco's proto has none; the tables mark such a message).

// renderMaxDepth bounds the walker's recursion; deeper records (Location's
// parent chain) go to the reference renderer.
const renderMaxDepth = 64

// renderSlots is the number of fields a message may have for the walker to
// keep its per-field state on the stack (Cisco's largest has 31); a larger
// message allocates its state.
const renderSlots = 40

// jsonMsg is one message's table.
type jsonMsg struct {
	fields []jsonField // declaration order: the order of the JSON keys
	byNum  []int16     // field number → index in fields + 1 (0: not a field)
	oneofs int         // real oneofs (synthetic ones of proto3 optional excluded)
	refuse bool        // a map or group field: the reference renders it
	// zeroSize is the length of the rendering with every field absent,
	// a hint for the output buffer's size.
	zeroSize int
}

// jsonField is one field's entry.
type jsonField struct {
	key      []byte // `"jsonName":`
	num      protowire.Number
	kind     protoreflect.Kind
	wt       protowire.Type // the wire type of one (unpacked) value
	list     bool
	packable bool // a repeated scalar: packed values are accepted too
	presence bool // absent when not on the wire (messages, oneof members, optional)
	oneof    int  // index of its real oneof, -1 when none
	utf8     bool // a string whose bytes proto.Unmarshal validates
	zero     []byte
	enum     *jsonEnum
	msg      *jsonMsg
}

// jsonEnum holds an enum's quoted value names by number.
type jsonEnum struct {
	names  [][]byte // `"NAME"` by number 0..len-1; nil when unnamed
	values protoreflect.EnumValueDescriptors
}

func (e *jsonEnum) append(b []byte, n int32) []byte {
	if n >= 0 && int(n) < len(e.names) {
		if s := e.names[n]; s != nil {
			return append(b, s...)
		}
	} else if v := e.values.ByNumber(protoreflect.EnumNumber(n)); v != nil {
		return appendJSONString(b, string(v.Name()))
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// recordTables is the EventRecord's table and its payload members'; built
// once per process from the generated descriptors and never written after,
// like the descriptors themselves.
type recordTables struct {
	record  *jsonMsg
	payload int // the index of the "event" oneof in record
}

var renderTables = sync.OnceValue(func() *recordTables {
	md := (*firehosev1.EventRecord)(nil).ProtoReflect().Descriptor()
	t := &recordTables{record: newJSONTables(md)}
	t.payload = -1
	od := md.Oneofs().ByName("event")
	real := 0
	for i := range md.Oneofs().Len() {
		o := md.Oneofs().Get(i)
		if o.IsSynthetic() {
			continue
		}
		if o == od {
			t.payload = real
		}
		real++
	}
	return t
})

func newJSONTables(md protoreflect.MessageDescriptor) *jsonMsg {
	return buildJSONMsg(md, map[protoreflect.FullName]*jsonMsg{}, map[protoreflect.FullName]*jsonEnum{})
}

func buildJSONMsg(md protoreflect.MessageDescriptor, msgs map[protoreflect.FullName]*jsonMsg, enums map[protoreflect.FullName]*jsonEnum) *jsonMsg {
	if t, ok := msgs[md.FullName()]; ok {
		return t
	}
	t := &jsonMsg{}
	msgs[md.FullName()] = t
	oneofIndex := map[protoreflect.FullName]int{}
	for i := range md.Oneofs().Len() {
		if o := md.Oneofs().Get(i); !o.IsSynthetic() {
			oneofIndex[o.FullName()] = t.oneofs
			t.oneofs++
		}
	}
	fds := md.Fields()
	maxNum := 0
	for i := range fds.Len() {
		maxNum = max(maxNum, int(fds.Get(i).Number()))
	}
	t.byNum = make([]int16, maxNum+1)
	t.zeroSize = 2
	for i := range fds.Len() {
		fd := fds.Get(i)
		f := jsonField{
			key:      append(appendJSONString(nil, fd.JSONName()), ':'),
			num:      fd.Number(),
			kind:     fd.Kind(),
			list:     fd.IsList(),
			presence: fd.HasPresence(),
			oneof:    -1,
		}
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
			f.oneof = oneofIndex[o.FullName()]
		}
		if fd.IsMap() || fd.Kind() == protoreflect.GroupKind {
			t.refuse = true
		}
		switch fd.Kind() {
		case protoreflect.BoolKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Uint32Kind,
			protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind, protoreflect.EnumKind:
			f.wt = protowire.VarintType
		case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
			f.wt = protowire.Fixed32Type
		case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
			f.wt = protowire.Fixed64Type
		case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
			f.wt = protowire.BytesType
		default:
			f.wt = protowire.StartGroupType
		}
		f.packable = f.list && f.wt != protowire.BytesType && f.wt != protowire.StartGroupType
		f.utf8 = fd.Kind() == protoreflect.StringKind && fd.Syntax() == protoreflect.Proto3
		if fd.Kind() == protoreflect.EnumKind {
			f.enum = buildJSONEnum(fd.Enum(), enums)
		}
		if fd.Kind() == protoreflect.MessageKind && !fd.IsMap() {
			f.msg = buildJSONMsg(fd.Message(), msgs, enums)
		}
		switch {
		case f.list:
			f.zero = []byte("[]")
		case fd.Kind() == protoreflect.BoolKind:
			f.zero = []byte("false")
		case fd.Kind() == protoreflect.FloatKind || fd.Kind() == protoreflect.DoubleKind:
			f.zero = appendJSONFloat(nil, 0, 64)
		case fd.Kind() == protoreflect.StringKind || fd.Kind() == protoreflect.BytesKind:
			f.zero = []byte(`""`)
		case fd.Kind() == protoreflect.EnumKind:
			f.zero = f.enum.append(nil, 0)
		default:
			f.zero = []byte("0")
		}
		if !f.presence {
			t.zeroSize += len(f.key) + len(f.zero) + 1
		}
		t.fields = append(t.fields, f)
		t.byNum[f.num] = int16(len(t.fields))
	}
	return t
}

func buildJSONEnum(ed protoreflect.EnumDescriptor, enums map[protoreflect.FullName]*jsonEnum) *jsonEnum {
	if e, ok := enums[ed.FullName()]; ok {
		return e
	}
	e := &jsonEnum{values: ed.Values()}
	enums[ed.FullName()] = e
	for i := range e.values.Len() {
		v := e.values.Get(i)
		if n := v.Number(); n >= 0 && n < 256 {
			for int(n) >= len(e.names) {
				e.names = append(e.names, nil)
			}
			if e.names[n] == nil { // the first name of an aliased number, as ByNumber
				e.names[n] = appendJSONString(nil, string(v.Name()))
			}
		}
	}
	return e
}

// renderSlot is what the first pass found of one field: the last value's
// bytes for a singular field, the first occurrence's tag for a list.
type renderSlot struct {
	off, end int32
	n        int32
}

// appendPayloadFromWire appends `,"key":{…}` for the payload of the
// serialized EventRecord raw, or nothing when it has none. ok is false when
// the walker refuses the record (see above): b is then unspecified beyond
// its first len(b) bytes and the caller renders with the reference.
func appendPayloadFromWire(b, raw []byte) (out []byte, payloadStart int, ok bool) {
	t := renderTables()
	rt := t.record
	if rt.refuse || len(rt.fields) > renderSlots || t.payload < 0 {
		return b, 0, false
	}
	var slots [renderSlots]renderSlot
	var oneofSeen [4]int16
	if rt.oneofs > len(oneofSeen) {
		return b, 0, false
	}
	if !scanFields(rt, raw, slots[:len(rt.fields)], oneofSeen[:rt.oneofs]) {
		return b, 0, false
	}
	idx := int(oneofSeen[t.payload]) - 1
	if idx < 0 {
		return b, 0, true
	}
	f := &rt.fields[idx]
	s := slots[idx]
	b = append(b, ',')
	b = append(b, f.key...)
	start := len(b)
	b, ok = appendFieldValue(b, f, raw[s.off:s.end], 1)
	return b, start, ok
}

// scanFields is the first pass over a message's bytes: it validates every
// field proto.Unmarshal would decode and notes where each field's value is.
// It refuses what the walker does not render like proto.Unmarshal (a
// singular message twice, two members of a oneof, malformed bytes).
func scanFields(t *jsonMsg, b []byte, slots []renderSlot, oneofSeen []int16) bool {
	pos := 0
	for pos < len(b) {
		num, wt, n := protowire.ConsumeTag(b[pos:])
		if n < 0 || num > protowire.MaxValidNumber {
			return false // proto.Unmarshal refuses a number above the maximum
		}
		tagAt := pos
		pos += n
		var f *jsonField
		i := 0
		if int(num) < len(t.byNum) {
			if i = int(t.byNum[num]) - 1; i >= 0 {
				f = &t.fields[i]
			}
		}
		if f == nil || (wt != f.wt && !(f.packable && wt == protowire.BytesType)) {
			// Unknown, or a known number with another wire type: proto.Unmarshal
			// keeps it as an unknown field, unvalidated.
			n = protowire.ConsumeFieldValue(num, wt, b[pos:])
			if n < 0 {
				return false
			}
			pos += n
			continue
		}
		valAt := pos
		switch wt {
		case protowire.VarintType:
			_, n = protowire.ConsumeVarint(b[pos:])
		case protowire.Fixed32Type:
			_, n = protowire.ConsumeFixed32(b[pos:])
		case protowire.Fixed64Type:
			_, n = protowire.ConsumeFixed64(b[pos:])
		case protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b[pos:])
			if n >= 0 {
				valAt = pos + n - len(v)
				if f.utf8 && !utf8.Valid(v) {
					return false
				}
			}
		default:
			return false
		}
		if n < 0 {
			return false
		}
		pos += n
		s := &slots[i]
		if f.oneof >= 0 {
			if seen := oneofSeen[f.oneof]; seen != 0 && int(seen) != i+1 {
				return false // another member first: proto.Unmarshal would discard it
			}
			oneofSeen[f.oneof] = int16(i + 1)
		}
		if f.list {
			if s.n == 0 {
				s.off = int32(tagAt)
			}
		} else {
			if f.kind == protoreflect.MessageKind && s.n > 0 {
				return false // proto.Unmarshal merges the two
			}
			s.off, s.end = int32(valAt), int32(pos)
		}
		s.n++
	}
	return true
}

// appendMessageFromWire renders the message b with table t as
// appendMessageJSON renders it after proto.Unmarshal.
func appendMessageFromWire(out []byte, t *jsonMsg, b []byte, depth int) ([]byte, bool) {
	if t.refuse || depth > renderMaxDepth || len(b) > math.MaxInt32 {
		return out, false
	}
	var stack [renderSlots]renderSlot
	var oneofStack [4]int16
	slots := stack[:0]
	if len(t.fields) <= len(stack) {
		slots = stack[:len(t.fields)]
	} else {
		slots = make([]renderSlot, len(t.fields))
	}
	oneofSeen := oneofStack[:0]
	if t.oneofs <= len(oneofStack) {
		oneofSeen = oneofStack[:t.oneofs]
	} else {
		oneofSeen = make([]int16, t.oneofs)
	}
	if !scanFields(t, b, slots, oneofSeen) {
		return out, false
	}
	out = append(out, '{')
	first := true
	for i := range t.fields {
		f := &t.fields[i]
		s := slots[i]
		if f.presence && s.n == 0 {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, f.key...)
		var ok bool
		switch {
		case f.list:
			out, ok = appendListFromWire(out, f, b[s.off:], s.n, depth)
		case s.n == 0:
			out, ok = append(out, f.zero...), true
		default:
			out, ok = appendFieldValue(out, f, b[s.off:s.end], depth)
		}
		if !ok {
			return out, false
		}
	}
	return append(out, '}'), true
}

// appendListFromWire renders list f: its n occurrences from b (which starts
// at the first one's tag), packed or not, in wire order.
func appendListFromWire(out []byte, f *jsonField, b []byte, n int32, depth int) ([]byte, bool) {
	out = append(out, '[')
	first := true
	for pos := 0; n > 0 && pos < len(b); {
		num, wt, k := protowire.ConsumeTag(b[pos:])
		if k < 0 {
			return out, false
		}
		pos += k
		if num != f.num || (wt != f.wt && !(f.packable && wt == protowire.BytesType)) {
			k = protowire.ConsumeFieldValue(num, wt, b[pos:])
			if k < 0 {
				return out, false
			}
			pos += k
			continue
		}
		n--
		if wt == protowire.BytesType && f.packable {
			v, k := protowire.ConsumeBytes(b[pos:])
			if k < 0 {
				return out, false
			}
			pos += k
			for len(v) > 0 {
				var m int
				switch f.wt {
				case protowire.VarintType:
					_, m = protowire.ConsumeVarint(v)
				case protowire.Fixed32Type:
					_, m = protowire.ConsumeFixed32(v)
				case protowire.Fixed64Type:
					_, m = protowire.ConsumeFixed64(v)
				}
				if m < 0 {
					return out, false
				}
				if !first {
					out = append(out, ',')
				}
				first = false
				var ok bool
				if out, ok = appendFieldValue(out, f, v[:m], depth); !ok {
					return out, false
				}
				v = v[m:]
			}
			continue
		}
		var v []byte
		switch wt {
		case protowire.VarintType:
			_, k = protowire.ConsumeVarint(b[pos:])
			v = b[pos : pos+max(k, 0)]
		case protowire.Fixed32Type:
			_, k = protowire.ConsumeFixed32(b[pos:])
			v = b[pos : pos+max(k, 0)]
		case protowire.Fixed64Type:
			_, k = protowire.ConsumeFixed64(b[pos:])
			v = b[pos : pos+max(k, 0)]
		case protowire.BytesType:
			v, k = protowire.ConsumeBytes(b[pos:])
		}
		if k < 0 {
			return out, false
		}
		pos += k
		if !first {
			out = append(out, ',')
		}
		first = false
		var ok bool
		if out, ok = appendFieldValue(out, f, v, depth); !ok {
			return out, false
		}
	}
	return append(out, ']'), true
}

// appendFieldValue renders one value of f from its wire bytes v (a varint,
// 4 or 8 little-endian bytes, or the content of a length-delimited field).
func appendFieldValue(out []byte, f *jsonField, v []byte, depth int) ([]byte, bool) {
	var x uint64
	switch f.wt {
	case protowire.VarintType:
		var n int
		if x, n = protowire.ConsumeVarint(v); n < 0 {
			return out, false
		}
	case protowire.Fixed32Type:
		if len(v) < 4 {
			return out, false
		}
		x = uint64(binary.LittleEndian.Uint32(v))
	case protowire.Fixed64Type:
		if len(v) < 8 {
			return out, false
		}
		x = binary.LittleEndian.Uint64(v)
	}
	switch f.kind {
	case protoreflect.BoolKind:
		return strconv.AppendBool(out, x != 0), true
	case protoreflect.Int32Kind:
		return strconv.AppendInt(out, int64(int32(x)), 10), true
	case protoreflect.Int64Kind:
		return strconv.AppendInt(out, int64(x), 10), true
	case protoreflect.Sint32Kind:
		return strconv.AppendInt(out, int64(int32(protowire.DecodeZigZag(x&math.MaxUint32))), 10), true
	case protoreflect.Sint64Kind:
		return strconv.AppendInt(out, protowire.DecodeZigZag(x), 10), true
	case protoreflect.Uint32Kind:
		return strconv.AppendUint(out, uint64(uint32(x)), 10), true
	case protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return strconv.AppendUint(out, x, 10), true
	case protoreflect.Sfixed32Kind:
		return strconv.AppendInt(out, int64(int32(uint32(x))), 10), true
	case protoreflect.Sfixed64Kind:
		return strconv.AppendInt(out, int64(x), 10), true
	case protoreflect.FloatKind:
		return appendJSONFloat(out, float64(math.Float32frombits(uint32(x))), 32), true
	case protoreflect.DoubleKind:
		return appendJSONFloat(out, math.Float64frombits(x), 64), true
	case protoreflect.EnumKind:
		return f.enum.append(out, int32(x)), true
	case protoreflect.StringKind:
		return appendJSONString(out, bytesString(v)), true
	case protoreflect.BytesKind:
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, v)
		return append(out, '"'), true
	case protoreflect.MessageKind:
		return appendMessageFromWire(out, f.msg, v, depth+1)
	}
	return out, false
}
