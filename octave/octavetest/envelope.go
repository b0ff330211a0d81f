package octavetest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Octave wraps every answer in {"head":{…},"body":…}. An error head carries ok false, a numeric
// status, errors[] (strings), messages[] and references{}.

// writeEnvelope answers an HTTP request with status and an envelope: body (raw JSON, nil for {})
// when errMsg is empty, else an error head.
func writeEnvelope(w http.ResponseWriter, status int, body []byte, errMsg string) {
	b := appendHead(nil, nil, status, errMsg)
	if body == nil {
		body = []byte("{}")
	}
	b = append(b, `,"body":`...)
	b = append(b, body...)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// appendHead appends `{"head":{…}` (without closing the outer object). msgID, when not nil, is
// echoed as raw JSON. A success head (errMsg "") follows Octave's ack, with the status when it is
// not 0; an error head carries errMsg.
func appendHead(b, msgID []byte, status int, errMsg string) []byte {
	b = append(b, `{"head":{`...)
	if msgID != nil {
		b = append(b, `"msgId":`...)
		b = append(b, msgID...)
		b = append(b, ',')
	}
	if errMsg == "" {
		b = append(b, `"ok":true,`...)
		if status != 0 {
			b = append(b, `"status":`...)
			b = strconv.AppendInt(b, int64(status), 10)
			b = append(b, ',')
		}
		b = append(b, `"errors":[],"messages":[`...)
		b = appendJSONString(b, AckMessage)
		b = append(b, `]`...)
		if msgID == nil {
			b = append(b, `,"references":{}`...)
		}
		return append(b, '}')
	}
	b = append(b, `"ok":false,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"errors":[`...)
	b = appendJSONString(b, errMsg)
	b = append(b, `],"messages":[],"references":{}}`...)
	return b
}

// reply renders a socket reply: Octave's ack when errMsg is empty, else an error head.
func reply(msgID []byte, status int, errMsg string) []byte {
	b := appendHead(nil, msgID, status, errMsg)
	return append(b, `,"body":{}}`...)
}

// push renders an event push.
func push(e *Event) []byte {
	b := make([]byte, 0, len(e.raw)+64)
	b = append(b, `{"type":"message","resource":`...)
	b = appendJSONString(b, e.StreamID)
	b = append(b, `,"value":`...)
	b = append(b, e.raw...)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string (strconv.Quote's escapes are not all JSON).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals; invalid UTF-8 becomes U+FFFD
	return append(b, q...)
}
