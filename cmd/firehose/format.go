package main

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/firehose-go/firehose"
)

// newFormatter returns how tail turns an event into its stdout text (no
// trailing newline), for --output raw, pretty or meta. The bytes returned
// are valid until the next call: the handler copies them into stdout's
// buffer at once. It is called from one goroutine (tail runs one receiver).
func newFormatter(output string) func(ev *firehose.BorrowedEvent) []byte {
	var buf bytes.Buffer
	switch output {
	case "pretty":
		return func(ev *firehose.BorrowedEvent) []byte {
			buf.Reset()
			if err := json.Indent(&buf, ev.JSON(), "", "  "); err != nil {
				return ev.JSON() // not JSON after all: as received
			}
			return buf.Bytes()
		}
	case "meta":
		return func(ev *firehose.BorrowedEvent) []byte {
			buf.Reset()
			b := buf.AvailableBuffer()
			b = append(b, `{"source":`...)
			b = appendJSONString(b, ev.Source())
			b = append(b, `,"partitions":`...)
			b = appendJSONString(b, ev.Range().String())
			b = append(b, `,"id":`...)
			b = appendJSONString(b, string(ev.ID()))
			b = append(b, `,"timestamp":`...)
			b = strconv.AppendInt(b, ev.Timestamp(), 10)
			b = append(b, `,"type":`...)
			b = appendJSONString(b, string(ev.Type()))
			raw := ev.JSON()
			if json.Valid(raw) {
				b = append(b, `,"event":`...)
				b = appendCompact(b, raw)
			} else {
				b = append(b, `,"raw":`...)
				b = appendJSONString(b, string(raw))
			}
			b = append(b, '}')
			buf.Write(b)
			return buf.Bytes()
		}
	}
	return func(ev *firehose.BorrowedEvent) []byte { return ev.JSON() }
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// appendCompact appends valid JSON on one line (a pretty-printed event
// would break the one-object-a-line promise).
func appendCompact(b, raw []byte) []byte {
	if bytes.IndexByte(raw, '\n') < 0 {
		return append(b, raw...)
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return append(b, raw...)
	}
	return append(b, c.Bytes()...)
}
