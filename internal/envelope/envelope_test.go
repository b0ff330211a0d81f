package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"testing"
)

// readSample returns a shared sample file's content, or skips the test.
func readSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(samplePath(name))
	if err != nil {
		t.Skipf("shared sample %s not available: %v", name, err)
	}
	return data
}

// decoded is what encoding/json makes of an event, for comparison.
type decoded struct {
	RecordUID        string `json:"recordUid"`
	RecordTimestamp  int64  `json:"recordTimestamp"`
	EventType        string `json:"eventType"`
	SpacesTenantID   string `json:"spacesTenantId"`
	SpacesTenantName string `json:"spacesTenantName"`
	PartnerTenantID  string `json:"partnerTenantId"`
}

// checkAgainstJSON scans line (valid JSON, envelope keys as strings, the
// payload last) and compares every field with encoding/json's decoding.
func checkAgainstJSON(t *testing.T, line []byte) Envelope {
	t.Helper()
	var e Envelope
	if err := Scan(line, &e); err != nil {
		t.Fatalf("Scan: %v\nline: %.200s", err, line)
	}
	var d decoded
	if err := json.Unmarshal(line, &d); err != nil {
		t.Fatalf("json: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("json: %v", err)
	}
	if string(e.ID) != d.RecordUID || e.Timestamp != d.RecordTimestamp || string(e.Type) != d.EventType ||
		string(e.SpacesTenantID) != d.SpacesTenantID || string(e.SpacesTenantName) != d.SpacesTenantName ||
		string(e.PartnerTenantID) != d.PartnerTenantID {
		t.Fatalf("Scan = %+v\njson = %+v", e, d)
	}
	var payloadKey string
	for k, v := range m {
		if keyBit([]byte(k)) == 0 && len(v) > 0 && v[0] == '{' {
			payloadKey = k
		}
	}
	if string(e.PayloadKey) != payloadKey {
		t.Fatalf("PayloadKey %q, want %q", e.PayloadKey, payloadKey)
	}
	if payloadKey != "" && !bytes.Equal(e.Payload, m[payloadKey]) {
		t.Fatalf("Payload differs from encoding/json's raw value:\n%s\n%s", e.Payload, m[payloadKey])
	}
	if payloadKey == "" && e.Payload != nil {
		t.Fatalf("Payload %q without a payload key", e.Payload)
	}
	return e
}

func TestSamplesRepaired(t *testing.T) {
	data := readSample(t, "beam-template-xy_data.repaired.ndjson")
	types := map[string]int{}
	for line := range bytes.Lines(data) {
		e := checkAgainstJSON(t, line)
		types[string(e.Type)]++
		if string(e.Type) == "KEEP_ALIVE" && e.PayloadKey != nil {
			t.Errorf("KEEP_ALIVE with payload key %q", e.PayloadKey)
		}
		if string(e.Type) == "DEVICE_LOCATION_UPDATE" && string(e.PayloadKey) != "deviceLocationUpdate" {
			t.Errorf("payload key %q", e.PayloadKey)
		}
	}
	if types["DEVICE_LOCATION_UPDATE"] != 43 || types["KEEP_ALIVE"] != 1 {
		t.Fatalf("event types %v, want 43 DEVICE_LOCATION_UPDATE and 1 KEEP_ALIVE", types)
	}
}

// TestSamplesVerbatim: the byte-exact capture has 6 events broken in two
// by a stray line break; those 12 lines must be rejected, the others kept.
func TestSamplesVerbatim(t *testing.T) {
	data := readSample(t, "beam-template-xy_data.verbatim.ndjson")
	ok, bad := 0, 0
	for line := range bytes.Lines(data) {
		var e Envelope
		err := Scan(line, &e)
		if json.Valid(line) != (err == nil) {
			t.Errorf("json.Valid %v, Scan error %v: %.120s", json.Valid(line), err, line)
		}
		if err == nil {
			ok++
		} else {
			bad++
		}
	}
	if ok != 38 || bad != 12 {
		t.Fatalf("%d lines kept, %d rejected; want 38 and 12", ok, bad)
	}
}

func TestSamplesOther(t *testing.T) {
	for _, name := range []string{"placeos-drivers-keepalive.ndjson", "tsync-readme-iot-telemetry.json", "uwb-test-iot-telemetry.json"} {
		t.Run(name, func(t *testing.T) {
			data := readSample(t, name)
			e := checkAgainstJSON(t, data) // the .json files span many lines: whitespace
			if strings.HasSuffix(name, "iot-telemetry.json") {
				if string(e.PayloadKey) != "iotTelemetry" || e.SpacesTenantID != nil {
					t.Fatalf("got %+v", e)
				}
			}
		})
	}
}

// TestTruncatedSamples cuts every sample line at every byte offset: each
// prefix must be rejected (and nothing may panic).
func TestTruncatedSamples(t *testing.T) {
	data, err := os.ReadFile(samplePath("beam-template-xy_data.repaired.ndjson"))
	lines := [][]byte{[]byte(syntheticDLU), []byte(keepAlive)}
	if err == nil {
		lines = lines[:0]
		for l := range bytes.Lines(data) {
			lines = append(lines, bytes.TrimSuffix(l, []byte("\n")))
		}
	}
	var e Envelope
	for _, line := range lines {
		for k := range len(line) {
			if err := Scan(line[:k], &e); err == nil {
				t.Fatalf("prefix of %d bytes accepted: %q", k, line[:k])
			}
		}
	}
}

const keepAlive = `{"recordUid":"event-67d17b11","recordTimestamp":1641977171551,"spacesTenantId":"","spacesTenantName":"","partnerTenantId":"","eventType":"KEEP_ALIVE"}`

func TestScan(t *testing.T) {
	full := func(id string, ts int64, typ string, tid, tname, pid, pkey, payload string) Envelope {
		nb := func(s string) []byte {
			if s == "-" {
				return nil
			}
			return []byte(s)
		}
		return Envelope{ID: nb(id), Timestamp: ts, Type: nb(typ), SpacesTenantID: nb(tid),
			SpacesTenantName: nb(tname), PartnerTenantID: nb(pid), PayloadKey: nb(pkey), Payload: nb(payload)}
	}
	env := `"recordUid":"u1","recordTimestamp":17,"spacesTenantId":"t","spacesTenantName":"n","partnerTenantId":"p","eventType":"E"`
	std := full("u1", 17, "E", "t", "n", "p", "deviceEntry", `{"a":1}`)
	tests := []struct {
		name string
		line string
		want Envelope
		err  error
	}{
		{"keep-alive", keepAlive, full("event-67d17b11", 1641977171551, "KEEP_ALIVE", "", "", "", "-", "-"), nil},
		{"wire order", `{` + env + `,"deviceEntry":{"a":1}}`, std, nil},
		{"quoted timestamp", `{"recordUid":"u1","recordTimestamp":"1641977166586","eventType":"E"}`,
			full("u1", 1641977166586, "E", "-", "-", "-", "-", "-"), nil},
		{"negative timestamp", `{"recordUid":"u1","recordTimestamp":-5,"eventType":"E"}`, full("u1", -5, "E", "-", "-", "-", "-", "-"), nil},
		{"zero timestamp", `{"recordUid":"u1","recordTimestamp":0,"eventType":"E"}`, full("u1", 0, "E", "-", "-", "-", "-", "-"), nil},
		{"max int64", `{"recordUid":"u1","recordTimestamp":9223372036854775807,"eventType":"E"}`,
			full("u1", 9223372036854775807, "E", "-", "-", "-", "-", "-"), nil},
		{"min int64", `{"recordUid":"u1","recordTimestamp":"-9223372036854775808","eventType":"E"}`,
			full("u1", -9223372036854775808, "E", "-", "-", "-", "-", "-"), nil},
		{"reordered", `{"eventType":"E","partnerTenantId":"p","deviceEntry":{"a":1},"spacesTenantName":"n","recordTimestamp":17,"spacesTenantId":"t","recordUid":"u1"}`, std, nil},
		{"payload first", `{"deviceEntry":{"a":1},` + env + `}`, std, nil},
		{"keys after payload", `{` + env + `,"deviceEntry":{"a":1},"extra":[1,{"b":"}"}],"more":null}`, std, nil},
		{"object after payload", `{` + env + `,"deviceEntry":{"a":1},"x":{"y":2},"z":"}"}`, std, nil},
		{"unknown keys skipped", `{"version":"1.0","n":-1.5e3,"flags":[true,false,null],"recordUid":"u1","recordTimestamp":17,"eventType":"E","deviceEntry":{"a":1}}`,
			full("u1", 17, "E", "-", "-", "-", "deviceEntry", `{"a":1}`), nil},
		{"null payload skipped", `{"deviceEntry":null,"other":{"a":1},` + env + `}`, full("u1", 17, "E", "t", "n", "p", "other", `{"a":1}`), nil},
		{"second object not payload", `{` + env + `,"deviceEntry":{"a":1},"second":{"b":2},"x":0}`, std, nil},
		{"payload with braces in strings", `{` + env + `,"deviceEntry":{"s":"}{\"}","t":[{}]}}`,
			full("u1", 17, "E", "t", "n", "p", "deviceEntry", `{"s":"}{\"}","t":[{}]}`), nil},
		{"empty payload", `{` + env + `,"deviceEntry":{}}`, full("u1", 17, "E", "t", "n", "p", "deviceEntry", `{}`), nil},
		{"tenants missing", `{"recordUid":"u1","recordTimestamp":17,"eventType":"E","deviceEntry":{"a":1}}`,
			full("u1", 17, "E", "-", "-", "-", "deviceEntry", `{"a":1}`), nil},
		{"tenants null", `{"recordUid":"u1","recordTimestamp":17,"spacesTenantId":null,"spacesTenantName":null,"partnerTenantId":null,"eventType":"E"}`,
			full("u1", 17, "E", "-", "-", "-", "-", "-"), nil},
		{"unknown event type", `{"recordUid":"u1","recordTimestamp":17,"eventType":"SOMETHING_NEW","somethingNew":{"a":1}}`,
			full("u1", 17, "SOMETHING_NEW", "-", "-", "-", "somethingNew", `{"a":1}`), nil},
		{"duplicate key: first wins", `{"recordUid":"u1","recordUid":"u2","recordTimestamp":17,"recordTimestamp":"x","eventType":"E","eventType":5}`,
			full("u1", 17, "E", "-", "-", "-", "-", "-"), nil},
		{"non-UTF-8 passes through", "{\"recordUid\":\"u\xff\xfe\",\"recordTimestamp\":17,\"eventType\":\"E\xc3\"}",
			full("u\xff\xfe", 17, "E\xc3", "-", "-", "-", "-", "-"), nil},

		// Escapes.
		{"escaped quote", `{"recordUid":"a\"b","recordTimestamp":1,"eventType":"E"}`, full(`a"b`, 1, "E", "-", "-", "-", "-", "-"), nil},
		{"simple escapes", `{"recordUid":"\\\/\b\f\n\r\t","recordTimestamp":1,"eventType":"E"}`,
			full("\\/\b\f\n\r\t", 1, "E", "-", "-", "-", "-", "-"), nil},
		{"unicode escape", `{"recordUid":"caf\u00e9 \u00E9","recordTimestamp":1,"eventType":"E","spacesTenantName":"Z\u00fcrich"}`,
			full("café é", 1, "E", "-", "Zürich", "-", "-", "-"), nil},
		{"surrogate pair", `{"recordUid":"\ud83d\ude00!","recordTimestamp":1,"eventType":"E"}`, full("😀!", 1, "E", "-", "-", "-", "-", "-"), nil},
		{"lone surrogates", `{"recordUid":"\ud83dx\ude00\ud83d\u0041","recordTimestamp":1,"eventType":"E"}`,
			full("\uFFFDx\uFFFD\uFFFDA", 1, "E", "-", "-", "-", "-", "-"), nil},
		{"escaped key", `{"record\u0055id":"u1","recordTimestamp":1,"\u0065ventType":"E","deviceEntr\u0079":{"a":1}}`,
			full("u1", 1, "E", "-", "-", "-", "deviceEntry", `{"a":1}`), nil},

		// Whitespace.
		{"CRLF", keepAlive + "\r\n", full("event-67d17b11", 1641977171551, "KEEP_ALIVE", "", "", "", "-", "-"), nil},
		{"spaces everywhere", " \t{ \"recordUid\" : \"u1\" , \"recordTimestamp\" :\t17 ,\n\"spacesTenantId\":\"t\",\"spacesTenantName\":\"n\",\"partnerTenantId\":\"p\", \"eventType\" : \"E\" , \"deviceEntry\" : {\"a\":1} \r\n} \r\n",
			std, nil},
		{"spaces, lazy payload", "{" + env + ",\"deviceEntry\": {\"a\":1}\n }\r", std, nil},

		// Errors.
		{"empty", ``, Envelope{}, ErrNotObject},
		{"spaces", " \r\n", Envelope{}, ErrNotObject},
		{"array", `[1]`, Envelope{}, ErrNotObject},
		{"string", `"x"`, Envelope{}, ErrNotObject},
		{"empty object", `{}`, Envelope{}, ErrMissingID},
		{"missing uid", `{"recordTimestamp":1,"eventType":"E"}`, Envelope{}, ErrMissingID},
		{"empty uid", `{"recordUid":"","recordTimestamp":1,"eventType":"E"}`, Envelope{}, ErrMissingID},
		{"null uid", `{"recordUid":null,"recordTimestamp":1,"eventType":"E"}`, Envelope{}, ErrMissingID},
		{"missing ts", `{"recordUid":"u","eventType":"E"}`, Envelope{}, ErrMissingTimestamp},
		{"null ts", `{"recordUid":"u","recordTimestamp":null,"eventType":"E"}`, Envelope{}, ErrMissingTimestamp},
		{"missing type", `{"recordUid":"u","recordTimestamp":1}`, Envelope{}, ErrMissingType},
		{"empty type", `{"recordUid":"u","recordTimestamp":1,"eventType":""}`, Envelope{}, ErrMissingType},
		{"missing type, lazy", `{"recordUid":"u","recordTimestamp":1,"spacesTenantId":"","spacesTenantName":"","partnerTenantId":"","eventType":null,"p":{}}`, Envelope{}, ErrMissingType},
		{"uid number", `{"recordUid":5,"recordTimestamp":1,"eventType":"E"}`, Envelope{}, ErrBadField},
		{"type object", `{"recordUid":"u","recordTimestamp":1,"eventType":{}}`, Envelope{}, ErrBadField},
		{"tenant array", `{"recordUid":"u","recordTimestamp":1,"eventType":"E","spacesTenantId":[]}`, Envelope{}, ErrBadField},
		{"ts fraction", `{"recordUid":"u","recordTimestamp":1.5,"eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts .0", `{"recordUid":"u","recordTimestamp":1641977166586.0,"eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts exponent", `{"recordUid":"u","recordTimestamp":1e3,"eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts quoted exponent", `{"recordUid":"u","recordTimestamp":"1E3","eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts overflow", `{"recordUid":"u","recordTimestamp":9223372036854775808,"eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts overflow negative", `{"recordUid":"u","recordTimestamp":-9223372036854775809,"eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts overflow long", `{"recordUid":"u","recordTimestamp":"99999999999999999999999","eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts minus only", `{"recordUid":"u","recordTimestamp":-,"eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts double minus", `{"recordUid":"u","recordTimestamp":--1,"eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts plus", `{"recordUid":"u","recordTimestamp":"+1","eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts leading zero", `{"recordUid":"u","recordTimestamp":01,"eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts quoted empty", `{"recordUid":"u","recordTimestamp":"","eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts quoted space", `{"recordUid":"u","recordTimestamp":" 1","eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts quoted trailing", `{"recordUid":"u","recordTimestamp":"1x","eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts quoted escape", `{"recordUid":"u","recordTimestamp":"\u0031","eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts bool", `{"recordUid":"u","recordTimestamp":true,"eventType":"E"}`, Envelope{}, ErrBadTimestamp},
		{"ts garbage", `{"recordUid":"u","recordTimestamp":1x,"eventType":"E"}`, Envelope{}, ErrSyntax},
		{"trailing garbage", keepAlive + `x`, Envelope{}, ErrSyntax},
		{"two objects", keepAlive + keepAlive, Envelope{}, ErrSyntax},
		{"trailing comma", `{"recordUid":"u","recordTimestamp":1,"eventType":"E",}`, Envelope{}, ErrSyntax},
		{"missing colon", `{"recordUid" "u"}`, Envelope{}, ErrSyntax},
		{"unquoted key", `{recordUid:"u"}`, Envelope{}, ErrSyntax},
		{"single quotes", `{'recordUid':'u'}`, Envelope{}, ErrSyntax},
		{"control char in string", "{\"recordUid\":\"a\tb\",\"recordTimestamp\":1,\"eventType\":\"E\"}", Envelope{}, ErrSyntax},
		{"bad escape", `{"recordUid":"a\qb","recordTimestamp":1,"eventType":"E"}`, Envelope{}, ErrSyntax},
		{"bad unicode escape", `{"recordUid":"a\u12x4","recordTimestamp":1,"eventType":"E"}`, Envelope{}, ErrSyntax},
		{"bad escape in skipped value", `{"x":"\u12","recordUid":"u","recordTimestamp":1,"eventType":"E"}`, Envelope{}, ErrSyntax},
		{"bad number in skipped value", `{"x":01,"recordUid":"u","recordTimestamp":1,"eventType":"E"}`, Envelope{}, ErrSyntax},
		{"bad literal", `{"x":nul,"recordUid":"u","recordTimestamp":1,"eventType":"E"}`, Envelope{}, ErrSyntax},
		{"mismatched brackets in payload", `{"recordUid":"u","recordTimestamp":1,"eventType":"E","p":{"a":[}],"x":1}`, Envelope{}, ErrSyntax},
		{"unterminated payload", `{"recordUid":"u","recordTimestamp":1,"eventType":"E","p":{"a":1}`, Envelope{}, ErrSyntax},
		{"lazy but no final brace", `{` + env + `,"deviceEntry":{"a":1}`, Envelope{}, ErrSyntax},
		{"lazy but last is not brace", `{` + env + `,"deviceEntry":{"a":1},"x":1]`, Envelope{}, ErrSyntax},
		{"raw newline in string", "{\"recordUid\":\"Location \n- 1\",\"recordTimestamp\":1,\"eventType\":\"E\"}", Envelope{}, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Envelope
			err := Scan([]byte(tt.line), &e)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				if !strings.HasPrefix(err.Error(), "envelope: ") {
					t.Fatalf("error %q lacks the prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if !equalEnvelope(e, tt.want) {
				t.Fatalf("got  %s\nwant %s", show(e), show(tt.want))
			}
		})
	}
}

func equalEnvelope(a, b Envelope) bool {
	eq := func(x, y []byte) bool { return bytes.Equal(x, y) && (x == nil) == (y == nil) }
	return eq(a.ID, b.ID) && a.Timestamp == b.Timestamp && eq(a.Type, b.Type) &&
		eq(a.SpacesTenantID, b.SpacesTenantID) && eq(a.SpacesTenantName, b.SpacesTenantName) &&
		eq(a.PartnerTenantID, b.PartnerTenantID) && eq(a.PayloadKey, b.PayloadKey) && eq(a.Payload, b.Payload)
}

func show(e Envelope) string {
	q := func(b []byte) string {
		if b == nil {
			return "nil"
		}
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("{ID:%s Timestamp:%d Type:%s tenant:%s/%s/%s PayloadKey:%s Payload:%s}", q(e.ID), e.Timestamp, q(e.Type),
		q(e.SpacesTenantID), q(e.SpacesTenantName), q(e.PartnerTenantID), q(e.PayloadKey), q(e.Payload))
}

// TestLazyPayloadTrustsFinalBrace documents the price of the lazy path:
// with all six envelope keys before the payload, Scan does not read the
// payload, so what follows it is neither validated nor separated from it.
// A caller that decodes the payload finds the problem then.
func TestLazyPayloadTrustsFinalBrace(t *testing.T) {
	env := `"recordUid":"u1","recordTimestamp":17,"spacesTenantId":"t","spacesTenantName":"n","partnerTenantId":"p","eventType":"E"`
	for _, tt := range []struct{ line, payload string }{
		{`{` + env + `,"p":{"a":{"b":1}}}`, `{"a":{"b":1}}`},                                     // exact
		{`{` + env + `,"p":{"a":{"b":1}}`, `{"a":{"b":1}`},                                       // a cut line ending in "}}": not detected
		{`{` + env + `,"p":{"a":1},"q":{"b":2}}`, `{"a":1},"q":{"b":2}`},                         // a key after the payload is absorbed
		{`{` + env + `,"p":{"a":[1,2,}}`, `{"a":[1,2,}`},                                         // invalid payload content: not detected
		{`{` + env + `,"p":{"a":1},"recordUid":"u2","x":{}}`, `{"a":1},"recordUid":"u2","x":{}`}, // first uid counts, as on the exact path
	} {
		var e Envelope
		if err := Scan([]byte(tt.line), &e); err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		if string(e.Payload) != tt.payload || string(e.ID) != "u1" {
			t.Fatalf("%s: payload %s, id %s", tt.line, e.Payload, e.ID)
		}
	}
}

func TestErrorOffset(t *testing.T) {
	var e Envelope
	err := Scan([]byte(`{"recordUid":"u","recordTimestamp":1.5}`), &e)
	var pe *Error
	if !errors.As(err, &pe) || pe.Offset != 35 || err.Error() != "envelope: recordTimestamp is not an int64 at byte 35" {
		t.Fatalf("error %v (%#v)", err, pe)
	}
}

func TestScanResets(t *testing.T) {
	e := Envelope{ID: []byte("old"), Timestamp: 9, Payload: []byte("{}"), SpacesTenantID: []byte("x")}
	if err := Scan([]byte(`{"recordUid":"u","recordTimestamp":1,"eventType":"E"}`), &e); err != nil {
		t.Fatal(err)
	}
	if e.Payload != nil || e.SpacesTenantID != nil || string(e.ID) != "u" || e.Timestamp != 1 {
		t.Fatalf("not reset: %+v", e)
	}
	if err := Scan([]byte(`[`), &e); err == nil || e.ID != nil || e.Timestamp != 0 {
		t.Fatalf("not reset on error: %+v", e)
	}
}

func TestScanAliasesLine(t *testing.T) {
	line := []byte(`{"recordUid":"u1","recordTimestamp":1,"eventType":"E","p":{"a":1}}`)
	var e Envelope
	if err := Scan(line, &e); err != nil {
		t.Fatal(err)
	}
	line[14] = 'X'
	if string(e.ID) != "X1" {
		t.Fatalf("ID %q does not alias the line", e.ID)
	}
}

func TestScanZeroAllocs(t *testing.T) {
	lines := [][]byte{[]byte(syntheticDLU), []byte(keepAlive),
		[]byte(`{"deviceEntry":{"a":[1,2,{"b":"}"}]},"recordUid":"u","recordTimestamp":"17","eventType":"E","x":[true,null,-1.5e-3]}`)}
	if data, err := os.ReadFile(samplePath("beam-template-xy_data.repaired.ndjson")); err == nil {
		for l := range bytes.Lines(data) {
			lines = append(lines, l)
		}
	}
	var e Envelope
	for _, line := range lines {
		if allocs := testing.AllocsPerRun(100, func() {
			if err := Scan(line, &e); err != nil {
				t.Fatal(err)
			}
		}); allocs != 0 {
			t.Fatalf("Scan allocates %.1f times on %.80s", allocs, line)
		}
	}
}

func TestSkipValue(t *testing.T) {
	valid := []string{`0`, `-0`, `1.5e+3`, `-12.25E-1`, `"a\"b\u00e9"`, `true`, `false`, `null`, `[]`, `{}`,
		` [ 1 , {"a" : [ ] } , "x" ] `, `{"a":{"b":{"c":[[[]]]}}}`, strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)}
	for _, v := range valid {
		end, err := SkipValue([]byte(v+",tail"), 0)
		if err != nil || end != len(strings.TrimRight(v, " ")) {
			t.Errorf("SkipValue(%.40q) = %d, %v; want %d", v, end, err, len(strings.TrimRight(v, " ")))
		}
	}
	invalid := []string{``, ` `, `-`, `1.`, `.5`, `1e`, `+1`, `"abc`, `"\x"`, `tru`, `nulL`, `[1,]`, `[1 2]`, `{"a"}`,
		`{"a":1,}`, `{1:2}`, `[}`, `{]`, `{"a":1]`, `[`, `{`, strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)}
	for _, v := range invalid {
		if end, err := SkipValue([]byte(v), 0); err == nil {
			t.Errorf("SkipValue(%.40q) = %d, nil; want an error", v, end)
		} else if !errors.Is(err, ErrSyntax) {
			t.Errorf("SkipValue(%.40q): %v", v, err)
		}
		if json.Valid([]byte(v)) {
			t.Errorf("test bug: %q is valid JSON", v)
		}
	}
}

func TestSpecial8(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			var word [8]byte
			for i := range word {
				word[i] = 'a'
			}
			word[pos] = byte(c)
			x := uint64(0)
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(word[i])
			}
			m := special8(x)
			if plain[c] != (m == 0) {
				t.Fatalf("byte %#x at %d: mask %#x", c, pos, m)
			}
			if m != 0 && bits.TrailingZeros64(m) != 8*pos+7 {
				t.Fatalf("byte %#x at %d: lowest flag wrong in %#x", c, pos, m)
			}
		}
	}
}
