package octave

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
)

// The WebSocket messages (spec/dialects.md §2.3, §2.4).
//
// Client → server, one JSON text message each:
//
//	{"msgId":"<unique>","object":"event","type":"subscribe","streamId":"s…"}   (or "path":"/co/…")
//	{"msgId":"<unique>","object":"event","type":"unsubscribe","streamId":"s…"} (or "path")
//	{"type":"heartbeat"}                                                        (no reply)
//
// Server → client, routed by shape: a frame with a "head" object is a reply, matched to its
// request by head.msgId; a frame with "type":"message" is an event push,
// {"type":"message","resource":"<streamId>","value":<event>}; anything else is unknown (counted
// and logged by the caller, never fatal).

// heartbeatMsg is the keep-alive the client sends every Config.Heartbeat.
var heartbeatMsg = []byte(`{"type":"heartbeat"}`)

// isPath reports whether a stream name is a path ("/company/…") rather than an id ("s…").
func isPath(stream string) bool { return strings.HasPrefix(stream, "/") }

// appendRequest appends a subscribe or unsubscribe request (typ) for stream, by path when it is
// one, else by id.
func appendRequest(b []byte, typ, msgID, stream string) []byte {
	b = append(b, `{"msgId":`...)
	b = appendJSONString(b, msgID)
	b = append(b, `,"object":"event","type":`...)
	b = appendJSONString(b, typ)
	if isPath(stream) {
		b = append(b, `,"path":`...)
	} else {
		b = append(b, `,"streamId":`...)
	}
	b = appendJSONString(b, stream)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string (strconv.Quote's escapes are not all JSON).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals; invalid UTF-8 becomes U+FFFD
	return append(b, q...)
}

// msgIDs hands out msgIds unique within a process and, with overwhelming probability, across
// processes: a random prefix per generator and a counter.
type msgIDs struct {
	prefix string
	n      atomic.Uint64
}

func newMsgIDs() *msgIDs {
	var b [6]byte
	rand.Read(b[:])
	return &msgIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (m *msgIDs) next() string { return m.prefix + strconv.FormatUint(m.n.Add(1), 10) }

// frameClass is what a server frame is.
type frameClass uint8

const (
	classUnknown frameClass = iota // neither a reply nor an event: count, log, go on
	classReply                     // a reply to a request, by head.msgId
	classEvent                     // an event push
)

func (c frameClass) String() string {
	switch c {
	case classReply:
		return "reply"
	case classEvent:
		return "event"
	}
	return "unknown"
}

// reply is a server reply's head.
type reply struct {
	MsgID  string   // head.msgId: a string's value, or the JSON text of another value ("" if absent)
	OK     bool     // head.ok
	Status int      // head.status; 0 when absent (Octave's ack has none)
	Errors []string // head.errors; a non-string element is kept as its JSON text
}

// event is a pushed (or REST-served) event: the fields the client needs, and the object itself.
type event struct {
	Resource     string // the push's resource (the stream id); "" for a REST event
	Value        []byte // the event object, exactly as received
	ID           string // value.id
	CreationDate int64  // value.creationDate, ms
	StreamID     string // value.streamId, "" if absent
	Path         string // value.path, "" if absent
}

// routed is a classified frame.
type routed struct {
	class frameClass
	reply reply
	event event
	kind  string // for classUnknown: the frame's "type" when it is a string, for logs
}

// wireError is a malformed frame: one frame alone is bad, the connection goes on.
type wireError struct{ reason string }

func (e *wireError) Error() string { return "octave: malformed frame: " + e.reason }

func malformed(format string, args ...any) error {
	return &wireError{reason: fmt.Sprintf(format, args...)}
}

// route classifies one server frame. A frame that is a reply or an event but lacks what that
// needs is an error (*wireError) naming the member at fault; a well-formed JSON object that is
// neither is classUnknown without an error. Value is a copy: it does not alias b.
func route(b []byte) (routed, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		return routed{}, malformed("not a JSON object")
	}
	if h, ok := top["head"]; ok && !isNull(h) {
		r, err := parseHead(h)
		return routed{class: classReply, reply: r}, err
	}
	var typ string
	if t, ok := top["type"]; ok {
		if json.Unmarshal(t, &typ) != nil {
			return routed{}, malformed("type is not a string")
		}
	}
	if typ != "message" {
		return routed{class: classUnknown, kind: typ}, nil
	}
	var ev event
	if rs, ok := top["resource"]; ok && !isNull(rs) {
		if json.Unmarshal(rs, &ev.Resource) != nil {
			return routed{}, malformed("resource is not a string")
		}
	}
	v, ok := top["value"]
	if !ok || isNull(v) {
		return routed{}, malformed("an event without value")
	}
	if err := parseEvent(v, &ev, "value."); err != nil {
		return routed{}, err
	}
	ev.Value = v
	return routed{class: classEvent, event: ev}, nil
}

// parseHead reads a reply's head.
func parseHead(h json.RawMessage) (reply, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(h, &m) != nil || m == nil {
		return reply{}, malformed("head is not an object")
	}
	var r reply
	if id, ok := m["msgId"]; ok && !isNull(id) {
		if json.Unmarshal(id, &r.MsgID) != nil {
			r.MsgID = string(id) // a number or another value: its JSON text
		}
	}
	ok, present := m["ok"]
	if !present || json.Unmarshal(ok, &r.OK) != nil {
		return reply{}, malformed("head.ok is missing or not a boolean")
	}
	if st, present := m["status"]; present && !isNull(st) {
		n, err := parseInt(st)
		if err != nil || n < 0 || n > 999 {
			return reply{}, malformed("head.status is not a status code")
		}
		r.Status = int(n)
	}
	if es, present := m["errors"]; present && !isNull(es) {
		var items []json.RawMessage
		if json.Unmarshal(es, &items) != nil {
			return reply{}, malformed("head.errors is not an array")
		}
		for _, it := range items {
			var s string
			if json.Unmarshal(it, &s) != nil {
				s = string(it)
			}
			r.Errors = append(r.Errors, s)
		}
	}
	return r, nil
}

// parseEvent reads the members of an event object the client needs into ev (all but Value and
// Resource). prefix names the object in errors ("value.", "body[3].").
func parseEvent(v json.RawMessage, ev *event, prefix string) error {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil || m == nil {
		return malformed("%s is not an object", strings.TrimSuffix(prefix, "."))
	}
	id, ok := m["id"]
	if !ok || isNull(id) {
		return malformed("%sid is missing", prefix)
	}
	if json.Unmarshal(id, &ev.ID) != nil {
		return malformed("%sid is not a string", prefix)
	}
	if ev.ID == "" {
		return malformed("%sid is empty", prefix)
	}
	cd, ok := m["creationDate"]
	if !ok || isNull(cd) {
		return malformed("%screationDate is missing", prefix)
	}
	n, err := parseInt(cd)
	if err != nil {
		return malformed("%screationDate is not an integer number of ms", prefix)
	}
	ev.CreationDate = n
	for _, f := range []struct {
		name string
		dst  *string
	}{{"streamId", &ev.StreamID}, {"path", &ev.Path}} {
		if raw, ok := m[f.name]; ok && !isNull(raw) {
			if json.Unmarshal(raw, f.dst) != nil {
				return malformed("%s%s is not a string", prefix, f.name)
			}
		}
	}
	return nil
}

// parseInt reads a JSON number that is an integer (1700000000000, 1.7e12), or a string holding
// one (int64 values are sometimes quoted).
func parseInt(raw json.RawMessage) (int64, error) {
	s := string(raw)
	if len(s) > 0 && s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not an integer: %q", s)
	}
	return int64(f), nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }
