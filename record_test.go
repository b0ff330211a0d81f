package firehose

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/firehose-go/firehose/internal/envelope"
	"github.com/firehose-go/firehose/proto/firehosev1"
)

// sharedSample reads a captured Cisco sample from the shared folder beside
// the repository (never copied into it); the test skips when it is absent
// (fails with FIREHOSE_REQUIRE_SAMPLES=1).
func sharedSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "shared", "cisco-samples", name))
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("FIREHOSE_REQUIRE_SAMPLES") == "1" {
			t.Fatalf("sample %s not found and FIREHOSE_REQUIRE_SAMPLES=1", name)
		}
		t.Skipf("sample %s not found (shared/cisco-samples is not beside the repo)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sampleLines returns the events of a sample: one per line (.ndjson), or the
// whole file as one compact line (.json).
func sampleLines(t testing.TB, name string) [][]byte {
	t.Helper()
	data := sharedSample(t, name)
	if strings.HasSuffix(name, ".json") {
		return [][]byte{compactJSON(t, data)}
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, bytes.Clone(l))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonEvent makes the owned Event the HTTP and WebSocket channels deliver.
func jsonEvent(t testing.TB, line []byte) *Event {
	t.Helper()
	var env envelope.Envelope
	if err := envelope.Scan(line, &env); err != nil {
		t.Fatalf("envelope scan: %v: %s", err, line)
	}
	return newFrameEvent(jsonFrame(line, &env))
}

// protoEvent makes the Event the gRPC channel delivers for a serialized record.
func protoEventOf(t testing.TB, raw []byte) *Event {
	t.Helper()
	f := Frame{Raw: bytes.Clone(raw)}
	f.cisco.format = formatProto
	if err := scanRecord(f.Raw, &f.cisco.env, newRecordNames()); err != nil {
		t.Fatalf("scanRecord: %v", err)
	}
	return newProtoEvent(&f)
}

func marshal(t testing.TB, rec *firehosev1.EventRecord) []byte {
	t.Helper()
	b, err := proto.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tree decodes JSON into a map tree with numbers kept as json.Number.
func tree(t testing.TB, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}

// sameMeaning compares the original tree with the rendered one: every value
// of the original is in the rendering (numbers compared as numbers, within
// float32 precision); keys only the rendering has must hold a zero value (a
// field the original omitted at its default). It returns the differences.
func sameMeaning(path string, orig, got any) []string {
	switch o := orig.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v became %v", path, orig, got)}
		}
		var diffs []string
		for k, ov := range o {
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, path+"."+k+": missing")
				continue
			}
			diffs = append(diffs, sameMeaning(path+"."+k, ov, gv)...)
		}
		for k, gv := range g {
			if _, ok := o[k]; !ok && !zeroJSON(gv) {
				diffs = append(diffs, fmt.Sprintf("%s.%s: extra non-default %v", path, k, gv))
			}
		}
		sort.Strings(diffs)
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(o) {
			return []string{fmt.Sprintf("%s: %v became %v", path, orig, got)}
		}
		var diffs []string
		for i := range o {
			diffs = append(diffs, sameMeaning(fmt.Sprintf("%s[%d]", path, i), o[i], g[i])...)
		}
		return diffs
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return []string{fmt.Sprintf("%s: number %v became %v", path, orig, got)}
		}
		of, _ := o.Float64()
		gf, _ := g.Float64()
		if of != gf && math.Abs(of-gf) > 1e-6*math.Max(1, math.Abs(of)) {
			return []string{fmt.Sprintf("%s: %v became %v", path, o, g)}
		}
		return nil
	case string:
		// A quoted integer (accepted for int64 fields) reads back as a number.
		if g, ok := got.(json.Number); ok && o == g.String() {
			return nil
		}
		if orig != got {
			return []string{fmt.Sprintf("%s: %v became %v", path, orig, got)}
		}
		return nil
	default:
		if orig != got {
			return []string{fmt.Sprintf("%s: %v became %v", path, orig, got)}
		}
		return nil
	}
}

func zeroJSON(v any) bool {
	switch v := v.(type) {
	case string:
		return v == "" || zeroEnumNames()[v]
	case bool:
		return !v
	case json.Number:
		f, _ := v.Float64()
		return f == 0
	case []any:
		return len(v) == 0
	}
	return false
}

// zeroEnumNames are the names of the proto's enum values numbered 0: a field
// at its default renders as one of them.
func zeroEnumNames() map[string]bool {
	names := map[string]bool{}
	var walk func(protoreflect.EnumDescriptors, protoreflect.MessageDescriptors)
	walk = func(enums protoreflect.EnumDescriptors, msgs protoreflect.MessageDescriptors) {
		for i := range enums.Len() {
			if v := enums.Get(i).Values().ByNumber(0); v != nil {
				names[string(v.Name())] = true
			}
		}
		for i := range msgs.Len() {
			walk(msgs.Get(i).Enums(), msgs.Get(i).Messages())
		}
	}
	fd := firehosev1.File_firehosego_cisco_v1_firehose_proto
	walk(fd.Enums(), fd.Messages())
	return names
}

// TestRecordRoundTripSamples: a captured JSON line → Event.Record → the
// serialized record a gRPC server would send → the gRPC Event → its JSON:
// the same meaning as the captured line, and the same envelope when the
// rendering is scanned like an HTTP line.
func TestRecordRoundTripSamples(t *testing.T) {
	files := []string{"beam-template-xy_data.repaired.ndjson", "placeos-drivers-keepalive.ndjson", "tsync-readme-iot-telemetry.json"}
	n := 0
	for _, name := range files {
		for i, line := range sampleLines(t, name) {
			t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
				n++
				ev := jsonEvent(t, line)
				rec, err := ev.Record()
				if err != nil {
					t.Fatal(err)
				}
				if rec.GetRecordUid() != ev.ID() || rec.GetRecordTimestamp() != ev.Timestamp() || rec.GetEventType().String() != string(ev.Type()) {
					t.Fatalf("record envelope %v, event %s", rec, ev)
				}
				pe := protoEventOf(t, marshal(t, rec))
				out := pe.JSON()
				if diffs := sameMeaning("$", tree(t, line), tree(t, out)); len(diffs) > 0 {
					t.Fatalf("meaning changed:\n%s\nline: %s\nout:  %s", strings.Join(diffs, "\n"), line, out)
				}
				var want, got envelope.Envelope
				if err := envelope.Scan(line, &want); err != nil {
					t.Fatal(err)
				}
				if err := envelope.Scan(out, &got); err != nil {
					t.Fatalf("rendering does not scan: %v: %s", err, out)
				}
				if !sameEnvelope(want, got) {
					t.Fatalf("envelope changed:\nwant %+v\ngot  %+v", want, got)
				}
				if pe.PayloadKey() != ev.PayloadKey() || !bytes.Equal(compactJSON(t, pe.Payload()), compactJSON(t, got.Payload)) {
					t.Fatalf("payload key %q/%q or Payload differs", pe.PayloadKey(), ev.PayloadKey())
				}
				// The envelope keys come first, in wire order.
				if !bytes.HasPrefix(out, []byte(`{"recordUid":`)) || bytes.Index(out, []byte(`"eventType"`)) > bytes.Index(out, []byte(`"`+pe.PayloadKey()+`"`)) && pe.PayloadKey() != "" {
					t.Fatalf("key order: %s", out)
				}
			})
		}
	}
}

func compactJSON(t testing.TB, b []byte) []byte {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return out.Bytes()
}

func sameEnvelope(a, b envelope.Envelope) bool {
	return bytes.Equal(a.ID, b.ID) && a.Timestamp == b.Timestamp && bytes.Equal(a.Type, b.Type) &&
		bytes.Equal(a.SpacesTenantID, b.SpacesTenantID) && bytes.Equal(a.SpacesTenantName, b.SpacesTenantName) &&
		bytes.Equal(a.PartnerTenantID, b.PartnerTenantID) && bytes.Equal(a.PayloadKey, b.PayloadKey)
}

// TestRenderShape: the envelope is always there (DEVICE_ENTRY is enum 0 and
// empty tenant fields are omitted on the proto wire), int64 values are plain
// numbers, defaults are present, unset sub-messages absent, floats keep a
// decimal point, enums are names.
func TestRenderShape(t *testing.T) {
	rec := &firehosev1.EventRecord{
		RecordUid:       "event-1",
		RecordTimestamp: 1714450000000,
		Event: &firehosev1.EventRecord_DeviceEntry{DeviceEntry: &firehosev1.DeviceEntry{
			EntryTimestamp: 9007199254740993, // above 2^53: must stay exact
			Device:         &firehosev1.Device{MacAddress: "aa:bb", Gender: firehosev1.Gender_FEMALE},
		}},
	}
	ev := protoEventOf(t, marshal(t, rec))
	got := string(ev.JSON())
	for _, want := range []string{
		`{"recordUid":"event-1","recordTimestamp":1714450000000,"spacesTenantId":"","spacesTenantName":"","partnerTenantId":"","eventType":"DEVICE_ENTRY","deviceEntry":{`,
		`"entryTimestamp":9007199254740993`,
		`"visitId":""`,
		`"daysSinceLastVisit":0`,
		`"tags":[]`,
		`"gender":"FEMALE"`,
		`"type":"NOT_AVAILABLE"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	for _, bad := range []string{`"location"`, `"dhcpProfileInfo"`, `"9007199254740993"`} {
		if strings.Contains(got, bad) {
			t.Errorf("unexpected %s in\n%s", bad, got)
		}
	}
	if p := string(ev.Payload()); !strings.HasPrefix(p, `{"device":{`) || !strings.HasSuffix(got, p+"}") {
		t.Errorf("Payload %s", p)
	}
	var v struct{ EntryTimestamp int64 }
	if err := ev.Decode(&v); err != nil || v.EntryTimestamp != 9007199254740993 {
		t.Errorf("Decode: %+v %v", v, err)
	}

	ka := protoEventOf(t, marshal(t, &firehosev1.EventRecord{RecordUid: "event-2", RecordTimestamp: 5, EventType: firehosev1.EventType_KEEP_ALIVE}))
	const wantKA = `{"recordUid":"event-2","recordTimestamp":5,"spacesTenantId":"","spacesTenantName":"","partnerTenantId":"","eventType":"KEEP_ALIVE"}`
	if string(ka.JSON()) != wantKA || ka.Payload() != nil || ka.PayloadKey() != "" {
		t.Errorf("keep-alive rendered %s payload %q", ka.JSON(), ka.Payload())
	}
	if err := ka.Decode(&v); !errors.Is(err, ErrNoPayload) {
		t.Errorf("Decode without payload: %v", err)
	}
}

func TestAppendJSONFloat(t *testing.T) {
	cases := []struct {
		f    float64
		bits int
		want string
	}{
		{328, 64, "328.0"},
		{-999, 64, "-999.0"},
		{0, 64, "0.0"},
		{float64(float32(372.79483)), 32, "372.79483"},
		{float64(float32(0.1)), 32, "0.1"},
		{50.049870563654046, 64, "50.049870563654046"},
		{1e21, 64, "1e+21"},
		{1e-7, 64, "1e-7"},
		{math.NaN(), 64, `"NaN"`},
		{math.Inf(-1), 32, `"-Infinity"`},
	}
	for _, c := range cases {
		if got := string(appendJSONFloat(nil, c.f, c.bits)); got != c.want {
			t.Errorf("appendJSONFloat(%v, %d) = %s, want %s", c.f, c.bits, got, c.want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	cases := map[string]string{
		"plain":            `"plain"`,
		"q\"b\\n\n\t\x01":  `"q\"b\\n\n\t\u0001"`,
		"caf\u00e9 \u2603": "\"caf\u00e9 \u2603\"",
		"bad\xffutf8":      `"bad\ufffdutf8"`,
	}
	for in, want := range cases {
		got := appendJSONString(nil, in)
		if string(got) != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%s: %v", got, err)
		}
	}
}

// TestRecordUnknownType: a type the proto's enum lacks never comes back as
// DEVICE_ENTRY (0), over JSON or gRPC.
func TestRecordUnknownType(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		ev := jsonEvent(t, []byte(`{"recordUid":"event-1","recordTimestamp":7,"spacesTenantId":"t","spacesTenantName":"","partnerTenantId":"","eventType":"SPACE_OCCUPANCY","spaceOccupancy":{"peopleCount":3}}`))
		rec, err := ev.Record()
		var ute *UnknownTypeError
		if !errors.Is(err, ErrUnknownType) || !errors.As(err, &ute) || ute.Type != SpaceOccupancy {
			t.Fatalf("err = %v", err)
		}
		if rec == nil || rec.EventType != -1 || rec.RecordUid != "event-1" || rec.SpacesTenantId != "t" {
			t.Fatalf("record %v", rec)
		}
	})
	t.Run("json EVENT_TYPE_n", func(t *testing.T) {
		ev := jsonEvent(t, []byte(`{"recordUid":"event-1","recordTimestamp":7,"eventType":"EVENT_TYPE_42"}`))
		rec, err := ev.Record()
		if !errors.Is(err, ErrUnknownType) || rec.GetEventType() != 42 {
			t.Fatalf("%v %v", rec, err)
		}
	})
	t.Run("grpc", func(t *testing.T) {
		raw := marshal(t, &firehosev1.EventRecord{RecordUid: "event-9", RecordTimestamp: 8, EventType: 99, SpacesTenantId: "x"})
		ev := protoEventOf(t, raw)
		if ev.Type() != "EVENT_TYPE_99" || ev.Type().Known() {
			t.Fatalf("type %q", ev.Type())
		}
		rec, err := ev.Record()
		if !errors.Is(err, ErrUnknownType) || rec.GetEventType() != 99 || rec.GetSpacesTenantId() != "x" {
			t.Fatalf("%v %v", rec, err)
		}
		if !strings.Contains(string(ev.JSON()), `"eventType":"EVENT_TYPE_99"`) {
			t.Fatalf("%s", ev.JSON())
		}
		// Its JSON reads back to the same number.
		back, err := jsonEvent(t, ev.JSON()).Record()
		if !errors.Is(err, ErrUnknownType) || back.GetEventType() != 99 {
			t.Fatalf("%v %v", back, err)
		}
	})
	t.Run("known", func(t *testing.T) {
		ev := jsonEvent(t, []byte(`{"recordUid":"event-1","recordTimestamp":"7","eventType":"DEVICE_ENTRY","deviceEntry":{"entryTimestamp":"12","futureField":1}}`))
		rec, err := ev.Record()
		if err != nil || rec.GetDeviceEntry().GetEntryTimestamp() != 12 || rec.GetRecordTimestamp() != 7 {
			t.Fatalf("%v %v", rec, err)
		}
	})
}

// TestRecordUnknownEnumNameLimitation records the documented limitation: a
// payload enum name the proto does not know reads as the enum's zero value.
func TestRecordUnknownEnumNameLimitation(t *testing.T) {
	ev := jsonEvent(t, sampleLines(t, "uwb-test-iot-telemetry.json")[0])
	rec, err := ev.Record()
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.GetIotTelemetry().GetDeviceInfo().GetDeviceType(); got != firehosev1.IOTDeviceType_IOT_DEVICE_UNKNOWN {
		t.Fatalf("deviceType %v", got)
	}
	if !bytes.Contains(ev.Payload(), []byte("IOT_UWB_TAG")) {
		t.Fatal("Payload lost the name")
	}
}

func TestRecordIsFreshEachCall(t *testing.T) {
	raw := marshal(t, &firehosev1.EventRecord{RecordUid: "event-1", RecordTimestamp: 1, EventType: firehosev1.EventType_DEVICE_EXIT,
		Event: &firehosev1.EventRecord_DeviceExit{DeviceExit: &firehosev1.DeviceExit{VisitId: "v"}}})
	for _, ev := range []*Event{protoEventOf(t, raw), eagerEventOf(t, raw), jsonEvent(t, protoEventOf(t, raw).JSON())} {
		a, err := ev.Record()
		if err != nil {
			t.Fatal(err)
		}
		a.GetDeviceExit().VisitId = "changed"
		b, _ := ev.Record()
		if b.GetDeviceExit().GetVisitId() != "v" {
			t.Fatalf("%v: records share memory", ev)
		}
	}
}

// eagerEventOf is the standard codec's Event for a serialized record.
func eagerEventOf(t testing.TB, raw []byte) *Event {
	t.Helper()
	rec := new(firehosev1.EventRecord)
	if err := proto.Unmarshal(raw, rec); err != nil {
		t.Fatal(err)
	}
	f := Frame{}
	f.cisco.format, f.cisco.record = formatProto, rec
	fillEagerEnvelope(&f, rec, newRecordNames())
	return newProtoEvent(&f)
}

func TestRecordMalformedPayload(t *testing.T) {
	// A valid envelope, then field 12 (deviceLocationUpdate) cut short.
	raw := marshal(t, &firehosev1.EventRecord{RecordUid: "event-1", RecordTimestamp: 1, EventType: firehosev1.EventType_DEVICE_LOCATION_UPDATE})
	raw = append(raw, 0x62, 0x05, 0x0a)
	var env envelope.Envelope
	if err := scanRecord(raw, &env, newRecordNames()); err == nil {
		t.Fatal("scan accepted a truncated payload")
	}
	// A payload that is length-valid but not a message: the envelope scans,
	// Record reports the error and JSON renders the envelope alone.
	raw = marshal(t, &firehosev1.EventRecord{RecordUid: "event-1", RecordTimestamp: 1, EventType: firehosev1.EventType_DEVICE_LOCATION_UPDATE})
	raw = append(raw, 0x62, 0x02, 0xff, 0xff)
	ev := protoEventOf(t, raw)
	if _, err := ev.Record(); err == nil {
		t.Fatal("Record decoded a bad payload")
	}
	if ev.PayloadKey() != "deviceLocationUpdate" || ev.Payload() != nil || !bytes.HasSuffix(ev.JSON(), []byte(`"eventType":"DEVICE_LOCATION_UPDATE"}`)) {
		t.Fatalf("%q %s", ev.PayloadKey(), ev.JSON())
	}
}
