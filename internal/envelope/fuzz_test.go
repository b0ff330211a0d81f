package envelope

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"
)

// FuzzScan checks that Scan never panics, that success implies a non-empty
// ID and Type, and, whenever the line is valid JSON, that Scan agrees with
// encoding/json both ways: what it returns is what encoding/json decodes
// (first occurrence of each key, as documented), and a line that satisfies
// the documented rules is accepted.
//
// Seeds are in testdata/fuzz/FuzzScan (synthetic, written for this test).
func FuzzScan(f *testing.F) {
	f.Add([]byte(syntheticDLU))
	f.Add([]byte(keepAlive))
	f.Fuzz(func(t *testing.T, line []byte) {
		var e Envelope
		err := Scan(line, &e)
		if err == nil && (len(e.ID) == 0 || len(e.Type) == 0) {
			t.Fatalf("Scan succeeded with ID %q Type %q", e.ID, e.Type)
		}
		if !json.Valid(line) {
			return
		}
		ref, ok := reference(line)
		if !ok { // not an object
			if err == nil {
				t.Fatalf("Scan accepted a JSON non-object")
			}
			return
		}
		if err != nil {
			if ref.acceptable() {
				t.Fatalf("Scan rejected a valid event: %v\nline: %q", err, line)
			}
			return
		}
		if !ref.acceptable() {
			t.Fatalf("Scan accepted %+v; reference says no: %+v", show(e), ref)
		}
		checkString(t, "ID", e.ID, ref.first["recordUid"])
		checkString(t, "Type", e.Type, ref.first["eventType"])
		checkString(t, "SpacesTenantID", e.SpacesTenantID, ref.first["spacesTenantId"])
		checkString(t, "SpacesTenantName", e.SpacesTenantName, ref.first["spacesTenantName"])
		checkString(t, "PartnerTenantID", e.PartnerTenantID, ref.first["partnerTenantId"])
		if want := ref.timestamp(); e.Timestamp != want {
			t.Fatalf("Timestamp %d, encoding/json %d", e.Timestamp, want)
		}
		if !ref.hasPayload {
			if e.PayloadKey != nil || e.Payload != nil {
				t.Fatalf("payload %q = %q, want none", e.PayloadKey, e.Payload)
			}
			return
		}
		if normalize(e.PayloadKey) != ref.payloadKey {
			t.Fatalf("PayloadKey %q, want %q", e.PayloadKey, ref.payloadKey)
		}
		// Exact unless keys follow the payload, in which case the lazy
		// path may extend it up to the line's final brace.
		if ref.payloadLast && !bytes.Equal(e.Payload, ref.payload) ||
			!ref.payloadLast && !bytes.HasPrefix(e.Payload, ref.payload) {
			t.Fatalf("Payload %q, encoding/json %q (last: %v)", e.Payload, ref.payload, ref.payloadLast)
		}
	})
}

type refEvent struct {
	first       map[string]json.RawMessage // first occurrence of each top-level key
	hasPayload  bool
	payloadKey  string // first other key with an object value
	payload     json.RawMessage
	payloadLast bool // no key follows the payload
}

var (
	envelopeKeys = []string{"recordUid", "recordTimestamp", "eventType", "spacesTenantId", "spacesTenantName", "partnerTenantId"}
	intGrammar   = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
)

// reference walks the top level of a valid JSON line with encoding/json.
func reference(line []byte) (refEvent, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return refEvent{}, false
	}
	r := refEvent{first: map[string]json.RawMessage{}}
	isEnvelope := func(k string) bool {
		for _, ek := range envelopeKeys {
			if k == ek {
				return true
			}
		}
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			panic(err)
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			panic(err)
		}
		if _, ok := r.first[key]; !ok {
			r.first[key] = raw
		}
		r.payloadLast = false
		if !r.hasPayload && !isEnvelope(key) && raw[0] == '{' {
			r.hasPayload, r.payloadKey, r.payload, r.payloadLast = true, key, raw, true
		}
	}
	return r, true
}

// acceptable applies Scan's documented rules.
func (r refEvent) acceptable() bool {
	nonEmptyString := func(k string) bool {
		var s string
		return len(r.first[k]) > 0 && r.first[k][0] == '"' && json.Unmarshal(r.first[k], &s) == nil && s != ""
	}
	if !nonEmptyString("recordUid") || !nonEmptyString("eventType") {
		return false
	}
	for _, k := range []string{"spacesTenantId", "spacesTenantName", "partnerTenantId"} {
		if raw, ok := r.first[k]; ok && raw[0] != '"' && string(raw) != "null" {
			return false
		}
	}
	ts := r.first["recordTimestamp"]
	if len(ts) > 1 && ts[0] == '"' {
		ts = ts[1 : len(ts)-1] // quoted: the raw digits, no escapes
	}
	if !intGrammar.Match(ts) {
		return false
	}
	_, err := strconv.ParseInt(string(ts), 10, 64)
	return err == nil
}

func (r refEvent) timestamp() int64 {
	raw := r.first["recordTimestamp"]
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			panic(err)
		}
	} else {
		s = string(raw)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return v
}

// normalize renders bytes as encoding/json does when it decodes a string:
// each byte that is not part of valid UTF-8 becomes U+FFFD.
func normalize(b []byte) string { return string([]rune(string(b))) }

func checkString(t *testing.T, name string, got []byte, raw json.RawMessage) {
	t.Helper()
	if raw == nil || string(raw) == "null" {
		if got != nil {
			t.Fatalf("%s = %q, want nil", name, got)
		}
		return
	}
	var want string
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%s: reference decode: %v", name, err)
	}
	if got == nil || normalize(got) != want {
		t.Fatalf("%s = %q, encoding/json %q", name, got, want)
	}
}
