package octave

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzRoute feeds arbitrary frames to the router: it must never panic, every error must be a
// *wireError, and what it classifies as an event must carry what the engine needs (an id, a
// creationDate read back the same from the value it returns). Seeds: testdata/fuzz/FuzzRoute.
func FuzzRoute(f *testing.F) {
	f.Add([]byte(`{"head":{"msgId":"a","ok":true,"errors":[],"messages":["Your request has been processed successfully."]},"body":{}}`))
	f.Add([]byte(`{"type":"message","resource":"s1","value":{"id":"e1","creationDate":1,"streamId":"s1","path":"/co/a","elems":{}}}`))
	f.Add([]byte(`{"type":"heartbeat"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := route(b)
		if err != nil {
			var we *wireError
			if !errors.As(err, &we) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		switch r.class {
		case classEvent:
			if r.event.ID == "" {
				t.Fatal("an event without id")
			}
			var again event
			if err := parseEvent(r.event.Value, &again, "value."); err != nil {
				t.Fatalf("the value returned does not parse again: %v", err)
			}
			if again.ID != r.event.ID || again.CreationDate != r.event.CreationDate {
				t.Fatalf("value parses to %q %d, route said %q %d", again.ID, again.CreationDate, r.event.ID, r.event.CreationDate)
			}
			if !json.Valid(r.event.Value) {
				t.Fatal("value is not valid JSON")
			}
		case classReply, classUnknown:
		default:
			t.Fatalf("class %d", r.class)
		}
	})
}

// FuzzRequest: any msgId and stream name make a request that is valid JSON and reads back.
func FuzzRequest(f *testing.F) {
	f.Add("m1", "s53b1d1600cf27b75148de0ac")
	f.Add("x", "/co/devices/d1/cpu")
	f.Fuzz(func(t *testing.T, id, stream string) {
		b := appendRequest(nil, "subscribe", id, stream)
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		key := "streamId"
		if isPath(stream) {
			key = "path"
		}
		// Invalid UTF-8 is sent as U+FFFD, as encoding/json does.
		var want string
		q, _ := json.Marshal(stream)
		json.Unmarshal(q, &want)
		if m[key] != want || m["type"] != "subscribe" || m["object"] != "event" {
			t.Fatalf("%q → %s", stream, b)
		}
	})
}
