package octave

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestAppendRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, id, stream, want string
	}{
		{"subscribe", "m1", "s53b1d1600cf27b75148de0ac", `{"msgId":"m1","object":"event","type":"subscribe","streamId":"s53b1d1600cf27b75148de0ac"}`},
		{"subscribe", "m2", "/my/stream/path", `{"msgId":"m2","object":"event","type":"subscribe","path":"/my/stream/path"}`},
		{"unsubscribe", "m3", "s1", `{"msgId":"m3","object":"event","type":"unsubscribe","streamId":"s1"}`},
		{"subscribe", `a"b`, "/co/\u2028x", `{"msgId":"a\"b","object":"event","type":"subscribe","path":"/co/\u2028x"}`},
	}
	for _, tt := range tests {
		got := string(appendRequest(nil, tt.typ, tt.id, tt.stream))
		if got != tt.want {
			t.Errorf("appendRequest(%q, %q, %q)\n got %s\nwant %s", tt.typ, tt.id, tt.stream, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("invalid JSON %s", got)
		}
	}
	if string(heartbeatMsg) != `{"type":"heartbeat"}` {
		t.Fatal(string(heartbeatMsg))
	}
}

func TestMsgIDsUnique(t *testing.T) {
	t.Parallel()
	a, b := newMsgIDs(), newMsgIDs()
	seen := map[string]bool{}
	for range 1000 {
		for _, id := range []string{a.next(), b.next()} {
			if seen[id] {
				t.Fatalf("msgId %s twice", id)
			}
			seen[id] = true
		}
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	const ev = `{"id":"e5b7311856a1b2c3d4e5f6a7b","streamId":"s1","path":"/co/a","creationDate":1534267781805,"elems":{"x":1}}`
	tests := []struct {
		name    string
		in      string
		class   frameClass
		reply   reply
		event   event
		errWant string // a substring of the error; "" for none
	}{
		{name: "ack", in: `{"head":{"msgId":"my-request","ok":true,"errors":[],"messages":["Your request has been processed successfully."]},"body":{}}`,
			class: classReply, reply: reply{MsgID: "my-request", OK: true}},
		{name: "error reply", in: `{"head":{"msgId":"m2","ok":false,"status":404,"errors":["The requested resource could not be located at this address."],"messages":[],"references":{}},"body":{}}`,
			class: classReply, reply: reply{MsgID: "m2", Status: 404, Errors: []string{"The requested resource could not be located at this address."}}},
		{name: "numeric msgId, odd errors", in: `{"head":{"msgId":17,"ok":false,"status":500,"errors":[{"c":1},"x"]}}`,
			class: classReply, reply: reply{MsgID: "17", Status: 500, Errors: []string{`{"c":1}`, "x"}}},
		{name: "head wins over type", in: `{"head":{"ok":true},"type":"message"}`, class: classReply, reply: reply{OK: true}},
		{name: "push", in: `{"type":"message","resource":"s1","value":` + ev + `}`, class: classEvent,
			event: event{Resource: "s1", Value: []byte(ev), ID: "e5b7311856a1b2c3d4e5f6a7b", CreationDate: 1534267781805, StreamID: "s1", Path: "/co/a"}},
		{name: "push, quoted and float dates", in: `{"type":"message","value":{"id":"e1","creationDate":"12"}}`, class: classEvent,
			event: event{Value: []byte(`{"id":"e1","creationDate":"12"}`), ID: "e1", CreationDate: 12}},
		{name: "push, exponent date", in: `{"type":"message","value":{"id":"e1","creationDate":1.5e12,"path":null}}`, class: classEvent,
			event: event{Value: []byte(`{"id":"e1","creationDate":1.5e12,"path":null}`), ID: "e1", CreationDate: 1500000000000}},
		{name: "heartbeat echo", in: `{"type":"heartbeat"}`, class: classUnknown},
		{name: "empty object", in: `{}`, class: classUnknown},
		{name: "null head is no head", in: `{"head":null,"type":"pong"}`, class: classUnknown},
		{name: "not json", in: `hello`, errWant: "not a JSON object"},
		{name: "array", in: `[1]`, errWant: "not a JSON object"},
		{name: "null", in: `null`, errWant: "not a JSON object"},
		{name: "trailing data", in: `{} {}`, errWant: "not a JSON object"},
		{name: "head not object", in: `{"head":3}`, errWant: "head is not an object"},
		{name: "head without ok", in: `{"head":{"msgId":"a"}}`, errWant: "head.ok"},
		{name: "bad status", in: `{"head":{"ok":false,"status":"x"}}`, errWant: "head.status"},
		{name: "errors not array", in: `{"head":{"ok":false,"errors":"x"}}`, errWant: "head.errors"},
		{name: "type not string", in: `{"type":1}`, errWant: "type is not a string"},
		{name: "no value", in: `{"type":"message","resource":"s1"}`, errWant: "without value"},
		{name: "value not object", in: `{"type":"message","value":[1]}`, errWant: "value is not an object"},
		{name: "no id", in: `{"type":"message","value":{"creationDate":1}}`, errWant: "value.id is missing"},
		{name: "empty id", in: `{"type":"message","value":{"id":"","creationDate":1}}`, errWant: "value.id is empty"},
		{name: "numeric id", in: `{"type":"message","value":{"id":5,"creationDate":1}}`, errWant: "value.id is not a string"},
		{name: "no date", in: `{"type":"message","value":{"id":"e1"}}`, errWant: "value.creationDate is missing"},
		{name: "fractional date", in: `{"type":"message","value":{"id":"e1","creationDate":1.5}}`, errWant: "creationDate is not an integer"},
		{name: "bad resource", in: `{"type":"message","resource":{},"value":{"id":"e1","creationDate":1}}`, errWant: "resource is not a string"},
		{name: "bad path", in: `{"type":"message","value":{"id":"e1","creationDate":1,"path":7}}`, errWant: "value.path is not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := route([]byte(tt.in))
			if tt.errWant != "" {
				var we *wireError
				if err == nil || !errors.As(err, &we) || !strings.Contains(err.Error(), tt.errWant) {
					t.Fatalf("err = %v, want a *wireError with %q", err, tt.errWant)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.class != tt.class {
				t.Fatalf("class %v, want %v", r.class, tt.class)
			}
			switch r.class {
			case classReply:
				if r.reply.MsgID != tt.reply.MsgID || r.reply.OK != tt.reply.OK || r.reply.Status != tt.reply.Status ||
					strings.Join(r.reply.Errors, "|") != strings.Join(tt.reply.Errors, "|") {
					t.Fatalf("reply %+v, want %+v", r.reply, tt.reply)
				}
			case classEvent:
				e, w := r.event, tt.event
				if e.Resource != w.Resource || string(e.Value) != string(w.Value) || e.ID != w.ID ||
					e.CreationDate != w.CreationDate || e.StreamID != w.StreamID || e.Path != w.Path {
					t.Fatalf("event %+v\nwant %+v", e, w)
				}
			}
		})
	}
}
