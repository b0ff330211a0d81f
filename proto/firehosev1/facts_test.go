package firehosev1_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/firehose-go/firehose/proto/firehosev1"
)

// The generated descriptors are held against shared/spec/cisco-proto-facts.md,
// the list of every message, field, number, type, cardinality and enum value
// of Cisco's v1.2.6 proto. Names are compared relative to the package (ours is
// firehosego.cisco.v1, Cisco's firehose_api_v1).

const factsFile = "cisco-proto-facts.md"

// requireShared reports whether a missing shared folder must fail the test
// rather than skip it.
func requireShared() bool { return os.Getenv("FIREHOSE_REQUIRE_SAMPLES") == "1" }

// readFacts reads the facts file from the shared folder beside the repository;
// the test skips when it is absent (fails with FIREHOSE_REQUIRE_SAMPLES=1).
func readFacts(t *testing.T) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "spec", factsFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		if requireShared() {
			t.Fatalf("%s not found and FIREHOSE_REQUIRE_SAMPLES=1", p)
		}
		t.Skipf("%s not found (shared/ is not beside the repo)", p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

type factField struct {
	num      protoreflect.FieldNumber
	name     string
	typ      string // a scalar type name, or a message or enum name relative to the package
	repeated bool
	oneof    string
}

type factMethod struct {
	name, in, out string
	stream        bool
}

type facts struct {
	messages map[string][]factField
	enums    map[string]map[string]protoreflect.EnumNumber // enum → value name → number
	methods  []factMethod
	service  string
}

var (
	factItem   = regexp.MustCompile(`^- (message|enum|service) \*\*([A-Za-z0-9_.]+)\*\*: (.*)$`)
	factFieldR = regexp.MustCompile(`^(\d+) ([a-z0-9_]+):([A-Za-z0-9_.]+)(\[\])?(?: \(oneof ([a-z0-9_]+)\))?$`)
	factValue  = regexp.MustCompile(`^(\d+) ([A-Z0-9_]+)$`)
	factRPC    = regexp.MustCompile(`^([A-Za-z]+)\(([A-Za-z0-9_.]+)\) returns \((stream )?([A-Za-z0-9_.]+)\)$`)
)

// parseFacts reads the list items of the facts file; any item it cannot read
// is an error (a change of notation must not make the test vacuous).
func parseFacts(text string) (*facts, error) {
	f := &facts{messages: map[string][]factField{}, enums: map[string]map[string]protoreflect.EnumNumber{}}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "- message ") && !strings.HasPrefix(line, "- enum ") && !strings.HasPrefix(line, "- service ") {
			continue
		}
		m := factItem.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: cannot read %q", i+1, line)
		}
		kind, name, body := m[1], m[2], m[3]
		switch kind {
		case "message":
			if _, dup := f.messages[name]; dup {
				return nil, fmt.Errorf("line %d: message %s listed twice", i+1, name)
			}
			var fields []factField
			for _, part := range strings.Split(body, "; ") {
				fm := factFieldR.FindStringSubmatch(strings.TrimSpace(part))
				if fm == nil {
					return nil, fmt.Errorf("line %d: %s: cannot read field %q", i+1, name, part)
				}
				n, _ := strconv.Atoi(fm[1])
				fields = append(fields, factField{num: protoreflect.FieldNumber(n), name: fm[2], typ: fm[3], repeated: fm[4] != "", oneof: fm[5]})
			}
			f.messages[name] = fields
		case "enum":
			if _, dup := f.enums[name]; dup {
				return nil, fmt.Errorf("line %d: enum %s listed twice", i+1, name)
			}
			values := map[string]protoreflect.EnumNumber{}
			for _, part := range strings.Split(body, ", ") {
				vm := factValue.FindStringSubmatch(strings.TrimSpace(part))
				if vm == nil {
					return nil, fmt.Errorf("line %d: %s: cannot read value %q", i+1, name, part)
				}
				n, _ := strconv.Atoi(vm[1])
				values[vm[2]] = protoreflect.EnumNumber(n)
			}
			f.enums[name] = values
		case "service":
			f.service = name
			for _, part := range strings.Split(body, "; ") {
				rm := factRPC.FindStringSubmatch(strings.TrimSpace(part))
				if rm == nil {
					return nil, fmt.Errorf("line %d: %s: cannot read method %q", i+1, name, part)
				}
				f.methods = append(f.methods, factMethod{name: rm[1], in: rm[2], stream: rm[3] != "", out: rm[4]})
			}
		}
	}
	return f, nil
}

var scalarKinds = map[string]protoreflect.Kind{
	"int32": protoreflect.Int32Kind, "int64": protoreflect.Int64Kind, "uint32": protoreflect.Uint32Kind,
	"uint64": protoreflect.Uint64Kind, "sint32": protoreflect.Sint32Kind, "sint64": protoreflect.Sint64Kind,
	"fixed32": protoreflect.Fixed32Kind, "fixed64": protoreflect.Fixed64Kind, "sfixed32": protoreflect.Sfixed32Kind,
	"sfixed64": protoreflect.Sfixed64Kind, "float": protoreflect.FloatKind, "double": protoreflect.DoubleKind,
	"bool": protoreflect.BoolKind, "string": protoreflect.StringKind, "bytes": protoreflect.BytesKind,
}

// relName is a descriptor's full name without the package.
func relName(d protoreflect.Descriptor) string {
	return strings.TrimPrefix(string(d.FullName()), string(d.ParentFile().Package())+".")
}

// describe renders a field descriptor in the facts' notation.
func describe(fd protoreflect.FieldDescriptor) factField {
	f := factField{num: fd.Number(), name: string(fd.Name()), repeated: fd.Cardinality() == protoreflect.Repeated}
	switch {
	case fd.Message() != nil:
		f.typ = relName(fd.Message())
	case fd.Enum() != nil:
		f.typ = relName(fd.Enum())
	default:
		f.typ = fd.Kind().String()
	}
	if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
		f.oneof = string(o.Name())
	}
	return f
}

func (f factField) String() string {
	s := fmt.Sprintf("%d %s:%s", f.num, f.name, f.typ)
	if f.repeated {
		s += "[]"
	}
	if f.oneof != "" {
		s += " (oneof " + f.oneof + ")"
	}
	return s
}

// allTypes lists every message and enum of a file, nested ones included, by
// name relative to the package.
func allTypes(file protoreflect.FileDescriptor) (map[string]protoreflect.MessageDescriptor, map[string]protoreflect.EnumDescriptor) {
	msgs := map[string]protoreflect.MessageDescriptor{}
	enums := map[string]protoreflect.EnumDescriptor{}
	var walk func(protoreflect.MessageDescriptors, protoreflect.EnumDescriptors)
	walk = func(ms protoreflect.MessageDescriptors, es protoreflect.EnumDescriptors) {
		for i := range es.Len() {
			enums[relName(es.Get(i))] = es.Get(i)
		}
		for i := range ms.Len() {
			m := ms.Get(i)
			if m.IsMapEntry() {
				continue
			}
			msgs[relName(m)] = m
			walk(m.Messages(), m.Enums())
		}
	}
	walk(file.Messages(), file.Enums())
	return msgs, enums
}

// factsDiff returns every difference between the facts and the file, each
// naming the message, field, enum or value concerned. With complete false,
// only what the facts list is checked (not what the file has beyond them).
func factsDiff(f *facts, file protoreflect.FileDescriptor, complete bool) []string {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	msgs, enums := allTypes(file)

	for name, want := range f.messages {
		md, ok := msgs[name]
		if !ok {
			add("message %s: missing from the proto", name)
			continue
		}
		for _, w := range want {
			fd := md.Fields().ByNumber(w.num)
			if fd == nil {
				add("field %s.%s: number %d missing from the proto", name, w.name, w.num)
				continue
			}
			if _, scalar := scalarKinds[w.typ]; !scalar {
				if _, isMsg := f.messages[w.typ]; !isMsg {
					if _, isEnum := f.enums[w.typ]; !isEnum {
						add("field %s.%s: type %s is neither a listed message nor a listed enum", name, w.name, w.typ)
					}
				}
			}
			if got := describe(fd); got != w {
				add("field %s.%s: proto has %v, facts say %v", name, w.name, got, w)
			}
		}
		if complete {
			for i := range md.Fields().Len() {
				fd := md.Fields().Get(i)
				if !slices.ContainsFunc(want, func(w factField) bool { return w.num == fd.Number() }) {
					add("field %s.%s: number %d is not in the facts", name, fd.Name(), fd.Number())
				}
			}
		}
	}
	for name, want := range f.enums {
		ed, ok := enums[name]
		if !ok {
			add("enum %s: missing from the proto", name)
			continue
		}
		for vname, num := range want {
			v := ed.Values().ByName(protoreflect.Name(vname))
			switch {
			case v == nil:
				add("enum value %s.%s: missing from the proto (facts: %d)", name, vname, num)
			case v.Number() != num:
				add("enum value %s.%s: proto has %d, facts say %d", name, vname, v.Number(), num)
			}
		}
		if complete {
			for i := range ed.Values().Len() {
				v := ed.Values().Get(i)
				if _, ok := want[string(v.Name())]; !ok {
					add("enum value %s.%s: %d is not in the facts", name, v.Name(), v.Number())
				}
			}
		}
	}
	if !complete {
		return diffs
	}
	for name := range msgs {
		if _, ok := f.messages[name]; !ok {
			add("message %s: not in the facts", name)
		}
	}
	for name := range enums {
		if _, ok := f.enums[name]; !ok {
			add("enum %s: not in the facts", name)
		}
	}
	sd := file.Services().ByName(protoreflect.Name(f.service))
	if sd == nil {
		add("service %s: missing from the proto", f.service)
		return diffs
	}
	if sd.Methods().Len() != len(f.methods) {
		add("service %s: proto has %d methods, facts %d", f.service, sd.Methods().Len(), len(f.methods))
	}
	for _, w := range f.methods {
		md := sd.Methods().ByName(protoreflect.Name(w.name))
		if md == nil {
			add("method %s.%s: missing from the proto", f.service, w.name)
			continue
		}
		got := factMethod{name: w.name, in: relName(md.Input()), out: relName(md.Output()), stream: md.IsStreamingServer()}
		if got != w || md.IsStreamingClient() {
			add("method %s.%s: proto has %+v (client streaming %v), facts say %+v", f.service, w.name, got, md.IsStreamingClient(), w)
		}
	}
	return diffs
}

// TestProtoMatchesCiscoFacts: every message, field (number, name, type,
// cardinality, oneof), enum value and method of the facts is in the proto,
// and the proto has nothing else.
func TestProtoMatchesCiscoFacts(t *testing.T) {
	f, err := parseFacts(readFacts(t))
	if err != nil {
		t.Fatal(err)
	}
	// The v1.2.6 facts list 76 messages and 21 enums; fewer means the
	// notation changed under the parser.
	if len(f.messages) < 76 || len(f.enums) < 21 || len(f.methods) != 5 {
		t.Fatalf("read only %d messages, %d enums, %d methods from %s", len(f.messages), len(f.enums), len(f.methods), factsFile)
	}
	file := firehosev1.File_firehosego_cisco_v1_firehose_proto
	diffs := factsDiff(f, file, true)
	slices.Sort(diffs)
	for _, d := range diffs {
		t.Error(d)
	}
	fields := 0
	for _, fs := range f.messages {
		fields += len(fs)
	}
	t.Logf("%d messages, %d fields, %d enums, %d methods match", len(f.messages), fields, len(f.enums), len(f.methods))
}

// TestFactsDiffNamesTheDifference: the comparison finds each kind of
// difference and names it (the old proto's mistakes, written as facts).
func TestFactsDiffNamesTheDifference(t *testing.T) {
	const wrong = `
- message **IOTTelemetry.iBeacon**: 1 beacon_mac_address:string; 2 uuid:string; 3 major:string; 4 minor:int32; 5 advertized_tx_power:int32
- message **IOTTelemetry.TPData**: 1 presence:bool; 2 people_count:int64; 3 standby_state:int32; 5 ambient_noise:int32
- message **LocationAnchorInfo**: 11 lat:double; 12 longitude:double
- message **User**: 1 user_id:string; 11 social_network_info:SocialNetworkInfo; 12 extra:string
- message **SocialNetworkInfo**: 3 facebook:Facebook (oneof other)
- message **Facebook**: 1 id:string
- message **Missing**: 1 id:string
- enum **NetworkStatusUpdate.NetworkDeviceStatus**: 0 NDS_UNKNOWN, 1 CONNECTED, 2 NDS_DISCONNECTED, 9 NDS_ACTIVE
`
	f, err := parseFacts(wrong)
	if err != nil {
		t.Fatal(err)
	}
	diffs := factsDiff(f, firehosev1.File_firehosego_cisco_v1_firehose_proto, false)
	for _, want := range []string{
		"field IOTTelemetry.iBeacon.major: proto has 3 major:int32",
		"field IOTTelemetry.TPData.ambient_noise: proto has 5 dryness_score:int32",
		"field LocationAnchorInfo.lat: proto has 11 latitude:double",
		"field User.social_network_info: proto has 11 social_network_info:SocialNetworkInfo[]",
		"field User.extra: number 12 missing",
		"field SocialNetworkInfo.facebook: proto has 3 facebook:Facebook (oneof social_info)",
		"message Missing: missing from the proto",
		"enum value NetworkStatusUpdate.NetworkDeviceStatus.CONNECTED: missing",
		"enum value NetworkStatusUpdate.NetworkDeviceStatus.NDS_ACTIVE: proto has 3, facts say 9",
	} {
		if !slices.ContainsFunc(diffs, func(d string) bool { return strings.HasPrefix(d, want) }) {
			t.Errorf("no difference starting %q in:\n%s", want, strings.Join(diffs, "\n"))
		}
	}
	if _, err := parseFacts("- message **X**: 1 a string"); err == nil {
		t.Error("an unreadable field was accepted")
	}
}
