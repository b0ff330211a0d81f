package callevents

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestGolden")

// golden is what a fixture normalises to, as stored in its .golden file.
type golden struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Time      string `json:"time"` // Timestamp in RFC 3339, for the reader
	Type      string `json:"type"`
	CallID    string `json:"callId"`
	AccountID string `json:"accountId"`
	Shape     string `json:"shape"`
	Wrap      string `json:"wrap"`
	Object    string `json:"object"` // "message" when the object is the whole message, else its bytes
}

// TestGolden normalises every testdata/golden/*.json fixture (hand-written from the
// specification's field lists: synthetic ids, fictional numbers, documentation addresses) and
// compares with its .golden file. go test -run TestGolden -update rewrites them; review the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil || len(files) < 8 {
		t.Fatalf("fixtures: %v, %d", err, len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			msg, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			vals, err := Split(msg)
			if err != nil || len(vals) != 1 {
				t.Fatalf("Split: %d values, %v", len(vals), err)
			}
			n, err := Normalize(vals[0])
			if err != nil {
				t.Fatal(err)
			}
			g := golden{
				ID: n.ID, Timestamp: n.Timestamp, Type: n.Type, CallID: n.CallID, AccountID: n.AccountID,
				Shape: n.Shape.String(), Wrap: n.Wrap.String(), Object: "message",
			}
			if n.Timestamp != 0 {
				g.Time = time.UnixMilli(n.Timestamp).UTC().Format(time.RFC3339Nano)
			}
			if !bytes.Equal(n.Object, bytes.TrimSpace(msg)) {
				g.Object = string(n.Object)
			}
			got, _ := json.MarshalIndent(g, "", "  ")
			got = append(got, '\n')
			gf := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(gf, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gf)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			if !json.Valid(n.Object) {
				t.Errorf("Object is not JSON: %s", n.Object)
			}
		})
	}
}

func TestTimestampUnits(t *testing.T) {
	t.Parallel()
	// The specification's arithmetic: Gregorian 63610891956 is 2015-10-01T04:12:36Z.
	want := time.Date(2015, 10, 1, 4, 12, 36, 0, time.UTC).UnixMilli()
	for _, c := range []struct {
		name, obj string
		want      int64
	}{
		{"Gregorian seconds, number", `{"Event-Name":"X","Timestamp":63610891956}`, want},
		{"Gregorian seconds, string", `{"hook_event":"x","timestamp":"63610891956"}`, want},
		{"Gregorian seconds with a fraction", `{"Timestamp":63610891956.25,"Call-ID":"a"}`, want + 250},
		{"Unix seconds", `{"Timestamp":1443672756}`, want},
		{"Unix ms", `{"Timestamp":1443672756000}`, want},
		{"Unix µs string", `{"Event-Name":"X","Event-Date-Timestamp":"1443672756000000","Core-UUID":"u"}`, want},
		{"Unix ns", `{"Timestamp":1443672756000000000}`, want},
		{"first present wins", `{"Timestamp":"","timestamp":"63610891956","Event-Date-Timestamp":"1"}`, want},
		{"none", `{"Event-Name":"X"}`, 0},
		{"not a number", `{"Timestamp":"yesterday"}`, 0},
		{"negative", `{"Timestamp":-5}`, 0},
		{"an object", `{"Timestamp":{"s":1}}`, 0},
		{"huge", `{"Timestamp":1e300}`, 0},
	} {
		n, err := Normalize([]byte(c.obj))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n.Timestamp != c.want {
			t.Errorf("%s: %d, want %d", c.name, n.Timestamp, c.want)
		}
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	id := func(obj string) string {
		t.Helper()
		n, err := Normalize([]byte(obj))
		if err != nil {
			t.Fatal(err)
		}
		return n.ID
	}
	if got := id(`{"Event-Name":"X","Msg-ID":"m1","Core-UUID":"c","Event-Sequence":"1"}`); got != "m1" {
		t.Errorf("Msg-ID first: %q", got)
	}
	if got := id(`{"Event-Name":"X","Msg-ID":1700000000000001}`); got != "1700000000000001" {
		t.Errorf("numeric Msg-ID: %q", got)
	}
	if got := id(`{"Event-Name":"X","Msg-ID":"","Core-UUID":"c","Event-Sequence":"7"}`); got != "c:7" {
		t.Errorf("Core-UUID:Event-Sequence: %q", got)
	}
	// The hash: the same name, call and time give the same id, whatever the other fields and the
	// time's unit; a different name, call or time gives another.
	a := id(`{"hook_event":"channel_answer","call_id":"c1","timestamp":"63610891956","from":"x"}`)
	if !strings.HasPrefix(a, "h") || len(a) != 33 {
		t.Errorf("hash id %q", a)
	}
	for _, same := range []string{
		`{"hook_event":"channel_answer","call_id":"c1","timestamp":63610891956,"from":"y"}`,
		`{"Event-Name":"CHANNEL_ANSWER","Call-ID":"c1","Timestamp":1443672756000}`,
	} {
		if got := id(same); got != a {
			t.Errorf("%s: %q, want %q", same, got, a)
		}
	}
	for _, other := range []string{
		`{"hook_event":"channel_destroy","call_id":"c1","timestamp":"63610891956"}`,
		`{"hook_event":"channel_answer","call_id":"c2","timestamp":"63610891956"}`,
		`{"hook_event":"channel_answer","call_id":"c1","timestamp":"63610891957"}`,
	} {
		if got := id(other); got == a {
			t.Errorf("%s: the same id as another event", other)
		}
	}
	// Without call id and time, the object's bytes decide.
	if id(`{"k":1}`) == id(`{"k":2}`) {
		t.Error("two different unknown objects share an id")
	}
	if id(`{"k":1}`) != id(` {"k":1} `) {
		t.Error("whitespace around an object changes its id")
	}
	// Pinned: the hash is part of the format (ids may be persisted in checkpoints).
	if a != "h"+pinnedHash {
		t.Errorf("the hash changed: %q", a)
	}
}

// pinnedHash is hex(SHA-256("CHANNEL_ANSWER\x00c1\x001443672756000")[:16]).
const pinnedHash = "04421c6423c5c61b63e441ffd80f9021"

func TestUnwrap(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, msg      string
		wrap           Wrap
		typ, call, obj string
	}{
		{"blackhole fills the name and call id", `{"action":"event","name":"CHANNEL_CREATE","routing_key":"call.CHANNEL_CREATE.leg.1@host","data":{"Msg-ID":"1"}}`,
			WrapData, "CHANNEL_CREATE", "leg.1@host", `{"Msg-ID":"1"}`},
		{"args", `{"name":"PARK_PARKED","args":{"Call-ID":"p1"}}`, WrapArgs, "PARK_PARKED", "p1", `{"Call-ID":"p1"}`},
		{"an event with a data member stays whole", `{"Event-Name":"X","data":{"Call-ID":"no"}}`, WrapNone, "X", "", ""},
		{"a webhook with a data member stays whole", `{"hook_event":"x","data":{"Call-ID":"no"}}`, WrapNone, "X", "", ""},
		{"an unknown object with an unknown data member stays whole", `{"type":"t","data":{"n":1}}`, WrapNone, "", "", ""},
		{"data that is not an object", `{"name":"N","data":[1]}`, WrapNone, "N", "", ""},
		{"twice wrapped", `{"action":"event","data":{"name":"CHANNEL_HOLD","args":{"Event-Name":"CHANNEL_HOLD","Call-ID":"h"}}}`,
			WrapData, "CHANNEL_HOLD", "h", `{"Event-Name":"CHANNEL_HOLD","Call-ID":"h"}`},
	} {
		n, err := Normalize([]byte(c.msg))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		obj := c.obj
		if obj == "" {
			obj = c.msg
		}
		if n.Wrap != c.wrap || n.Type != c.typ || n.CallID != c.call || string(n.Object) != obj {
			t.Errorf("%s: wrap %v type %q call %q object %s", c.name, n.Wrap, n.Type, n.CallID, n.Object)
		}
	}
}

func TestNotObject(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{"", "  ", "[]", `"s"`, "12", "null", "{", `{"a":}`, "{}x"} {
		if _, err := Normalize([]byte(msg)); !errors.Is(err, ErrNotObject) {
			t.Errorf("%q: %v", msg, err)
		}
	}
	if n, err := Normalize([]byte("{}")); err != nil || n.Shape != ShapeUnknown || n.ID == "" {
		t.Errorf("{}: %+v, %v", n, err)
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, msg string
		want      []string
		err       bool
	}{
		{"one", ` {"a":1}` + "\n", []string{`{"a":1}`}, false},
		{"empty", " \n", nil, false},
		{"newline-joined", "{\"a\":1}\n{\"b\":2}\n", []string{`{"a":1}`, `{"b":2}`}, false},
		{"back to back", `{"a":1}{"b":2}`, []string{`{"a":1}`, `{"b":2}`}, false},
		{"an array", `[{"a":1}, {"b":2}]`, []string{`{"a":1}`, `{"b":2}`}, false},
		{"objects then an array", "{\"a\":1}\n[{\"b\":2}]", []string{`{"a":1}`, `{"b":2}`}, false},
		{"a torn tail", "{\"a\":1}\n{\"b\":", []string{`{"a":1}`}, true},
		{"garbage", "not json", nil, true},
		{"a scalar is a value", `7`, []string{`7`}, false},
	} {
		got, err := Split([]byte(c.msg))
		if (err != nil) != c.err || (err != nil && !errors.Is(err, ErrMalformed)) {
			t.Errorf("%s: error %v", c.name, err)
		}
		var gs []string
		for _, v := range got {
			gs = append(gs, string(v))
		}
		if strings.Join(gs, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: %q, want %q", c.name, gs, c.want)
		}
	}
}
