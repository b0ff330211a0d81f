package callevents

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The KAZOO call-event names (its WebSocket call-event bindings). An event's type is an open
// string: FreeSWITCH alone has many more names (CHANNEL_HANGUP_COMPLETE, DTMF, CUSTOM, …), and every
// one is delivered as received.
const (
	ChannelCreate  = "CHANNEL_CREATE"
	ChannelAnswer  = "CHANNEL_ANSWER"
	ChannelBridge  = "CHANNEL_BRIDGE"
	ChannelHold    = "CHANNEL_HOLD"
	ChannelUnhold  = "CHANNEL_UNHOLD"
	ChannelDestroy = "CHANNEL_DESTROY"
	ParkParked     = "PARK_PARKED"
	ParkRetrieved  = "PARK_RETRIEVED"
	ParkAbandoned  = "PARK_ABANDONED"
)

// Shape is the dialect an event object was recognised as. The firehose's payload format is not
// documented; these are the three candidates, and anything else is ShapeUnknown (still delivered).
type Shape uint8

const (
	// ShapeUnknown is a JSON object none of the rules below recognised.
	ShapeUnknown Shape = iota
	// ShapeKazoo is KAZOO's AMQP call_event: Title-Case keys (Event-Name, Call-ID, Msg-ID,
	// Timestamp in Gregorian seconds, Custom-Channel-Vars.Account-ID).
	ShapeKazoo
	// ShapeWebhook is KAZOO's webhook body: snake_case keys (hook_event, call_id, account_id,
	// timestamp in Gregorian seconds as a string).
	ShapeWebhook
	// ShapeFreeSWITCH is FreeSWITCH's ESL event-json: Event-Name with Core-UUID, Event-Sequence and
	// Event-Date-Timestamp (µs), every value a string.
	ShapeFreeSWITCH
)

func (s Shape) String() string {
	switch s {
	case ShapeUnknown:
		return "unknown"
	case ShapeKazoo:
		return "kazoo"
	case ShapeWebhook:
		return "webhook"
	case ShapeFreeSWITCH:
		return "freeswitch"
	}
	return "Shape(" + strconv.Itoa(int(s)) + ")"
}

// Wrap is the envelope an event object arrived in.
type Wrap uint8

const (
	// WrapNone: the message was the event object itself.
	WrapNone Wrap = iota
	// WrapData: the object was the "data" member of an envelope (KAZOO Blackhole's current
	// {"action":"event","name","routing_key","data":{…}}).
	WrapData
	// WrapArgs: the object was the "args" member of an envelope (Blackhole's older
	// {"name","args":{…}}).
	WrapArgs
)

func (w Wrap) String() string {
	switch w {
	case WrapNone:
		return "none"
	case WrapData:
		return "data"
	case WrapArgs:
		return "args"
	}
	return "Wrap(" + strconv.Itoa(int(w)) + ")"
}

// Normalized is one event mapped onto the common core.
type Normalized struct {
	// ID is the key to deduplicate on (with Timestamp): Msg-ID when present; else Core-UUID and
	// Event-Sequence joined by ":"; else "h" and 32 hex digits of a hash (see Normalize).
	ID string
	// Timestamp is the event's time in Unix milliseconds; 0 when the object carries none.
	Timestamp int64
	// Type is the event name (Event-Name, upper-cased hook_event, or an envelope's name); may be
	// empty for an unknown shape.
	Type string
	// CallID is the call leg's id (Call-ID, call_id, Unique-ID, or from a routing key), if any.
	CallID string
	// AccountID is the account the event belongs to (Custom-Channel-Vars.Account-ID, account_id,
	// variable_ecallmgr_Account-ID), if any.
	AccountID string
	// Object is the event object's bytes, outside any envelope.
	Object []byte
	// Shape and Wrap say what the object was recognised as and what it was wrapped in.
	Shape Shape
	Wrap  Wrap
}

// ErrNotObject is the error of Normalize (wrapped with detail) for bytes that are not a JSON object.
var ErrNotObject = errors.New("callevents: not a JSON object")

// gregorianOffset is the number of seconds from 0000-01-01 to the Unix epoch: KAZOO's Timestamp
// minus this is Unix time.
const gregorianOffset = 62167219200

// maxUnwrap bounds how many envelopes Normalize takes off.
const maxUnwrap = 3

// Normalize maps one JSON object — one event, bare or in an envelope — onto the common core. It
// fails only for bytes that are not a JSON object (ErrNotObject); an object of an unknown shape is
// normalised as far as its keys allow, with a best-effort id.
//
// Envelope: while the object has neither Event-Name nor hook_event, and its "data" (else "args")
// member is an object that either looks like an event (it has Event-Name, hook_event, Call-ID,
// call_id or Unique-ID) or sits beside Blackhole's keys (action, name, routing_key), that member is
// the event, and the envelope's name and routing_key ("call.<EVENT>.<call id>") fill in what it
// lacks.
//
// Time: the first of Timestamp, timestamp and Event-Date-Timestamp that holds a number (or a string
// of one), read by its magnitude, so that every documented unit is converted: below 1e11 it is
// seconds — Gregorian when at least 62167219200, else Unix —, below 1e14 Unix ms, below 1e17 Unix
// µs, else Unix ns.
//
// ID: Msg-ID if non-empty; else Core-UUID + ":" + Event-Sequence if both are; else "h" followed by
// the first 16 bytes, in hex, of SHA-256 over Type, NUL, CallID, NUL, the decimal Timestamp — or,
// when the object has neither a call id nor a time, over Type, NUL and the object's bytes. The hash
// is fixed, so ids stay comparable across processes and versions.
func Normalize(obj []byte) (Normalized, error) {
	obj = bytes.TrimSpace(obj)
	if len(obj) == 0 || obj[0] != '{' {
		return Normalized{}, fmt.Errorf("%w: starts with %q", ErrNotObject, firstByte(obj))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return Normalized{}, fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	n := Normalized{Object: obj}
	var envName, routingKey string // from the outermost envelope that has them
	for range maxUnwrap {
		if has(m, "Event-Name") || has(m, "hook_event") {
			break
		}
		inner, raw, w := unwrap(m)
		if inner == nil {
			break
		}
		if envName == "" {
			envName = str(m["name"])
		}
		if routingKey == "" {
			routingKey = str(m["routing_key"])
		}
		if n.Wrap == WrapNone {
			n.Wrap = w
		}
		m, n.Object = inner, bytes.TrimSpace(raw)
	}

	n.Shape = shapeOf(m)
	var rkName, rkCall string
	if rest, ok := strings.CutPrefix(routingKey, "call."); ok {
		rkName, rkCall, _ = strings.Cut(rest, ".")
	}
	n.Type = first(str(m["Event-Name"]), strings.ToUpper(str(m["hook_event"])), str(m["name"]), envName, rkName)
	n.CallID = first(str(m["Call-ID"]), str(m["call_id"]), str(m["Unique-ID"]), str(m["Channel-Call-UUID"]), rkCall)
	n.AccountID = first(nested(m["Custom-Channel-Vars"], "Account-ID"), str(m["account_id"]), str(m["variable_ecallmgr_Account-ID"]))
	for _, k := range [...]string{"Timestamp", "timestamp", "Event-Date-Timestamp"} {
		if ms, ok := millis(m[k]); ok {
			n.Timestamp = ms
			break
		}
	}

	switch {
	case str(m["Msg-ID"]) != "":
		n.ID = str(m["Msg-ID"])
	case str(m["Core-UUID"]) != "" && str(m["Event-Sequence"]) != "":
		n.ID = str(m["Core-UUID"]) + ":" + str(m["Event-Sequence"])
	default:
		h := sha256.New()
		h.Write([]byte(n.Type))
		h.Write([]byte{0})
		if n.CallID == "" && n.Timestamp == 0 {
			h.Write(n.Object)
		} else {
			h.Write([]byte(n.CallID))
			h.Write([]byte{0})
			h.Write(strconv.AppendInt(nil, n.Timestamp, 10))
		}
		n.ID = "h" + hex.EncodeToString(h.Sum(nil)[:16])
	}
	return n, nil
}

// unwrap returns the envelope's event member, if m is an envelope.
func unwrap(m map[string]json.RawMessage) (map[string]json.RawMessage, json.RawMessage, Wrap) {
	envelope := has(m, "action") || has(m, "name") || has(m, "routing_key")
	for _, c := range [...]struct {
		key string
		w   Wrap
	}{{"data", WrapData}, {"args", WrapArgs}} {
		raw := bytes.TrimSpace(m[c.key])
		if len(raw) == 0 || raw[0] != '{' {
			continue
		}
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) != nil {
			continue
		}
		if envelope || has(inner, "Event-Name") || has(inner, "hook_event") || has(inner, "Call-ID") ||
			has(inner, "call_id") || has(inner, "Unique-ID") {
			return inner, raw, c.w
		}
	}
	return nil, nil, WrapNone
}

// shapeOf recognises an (unwrapped) event object.
func shapeOf(m map[string]json.RawMessage) Shape {
	switch {
	case has(m, "Event-Name") && (has(m, "Core-UUID") || has(m, "Event-Sequence") || has(m, "Event-Date-Timestamp")):
		return ShapeFreeSWITCH
	case has(m, "Event-Name") || has(m, "Call-ID") || has(m, "Msg-ID"):
		return ShapeKazoo
	case has(m, "hook_event") || has(m, "call_id") || has(m, "account_id"):
		return ShapeWebhook
	}
	return ShapeUnknown
}

func has(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

// str returns a JSON string's value, or a number's literal; "" for anything else.
func str(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	case c == '-' || c >= '0' && c <= '9':
		return string(raw)
	}
	return ""
}

// nested returns str of key inside the object raw.
func nested(raw json.RawMessage, key string) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	return str(m[key])
}

// millis reads a time (a number, or a string holding one) as Unix ms by its magnitude.
func millis(raw json.RawMessage) (int64, bool) {
	s := strings.TrimSpace(str(raw))
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return 0, false
	}
	var ms float64
	switch {
	case v < 1e11 && v >= gregorianOffset:
		ms = (v - gregorianOffset) * 1e3
	case v < 1e11:
		ms = v * 1e3
	case v < 1e14:
		ms = v
	case v < 1e17:
		ms = v / 1e3
	default:
		ms = v / 1e6
	}
	if ms >= math.MaxInt64 {
		return 0, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		// integers exactly, without float rounding
		switch {
		case v < 1e11 && v >= gregorianOffset:
			return (i - gregorianOffset) * 1e3, true
		case v < 1e11:
			return i * 1e3, true
		case v < 1e14:
			return i, true
		case v < 1e17:
			return i / 1e3, true
		default:
			return i / 1e6, true
		}
	}
	return int64(math.Floor(ms)), true
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func firstByte(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return string(b[:1])
}
