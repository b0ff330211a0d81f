package wsclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/firehose-go/firehose/wsclient"
)

// FuzzSplit: whatever the messages, the max and the split, and wherever the
// socket ends, Next never panics, never hands out a unit over the max or
// holds a buffer over it, and yields exactly what splitting the messages
// yields: for Lines each message's lines ("\r" trimmed, blank ones
// skipped), one Oversized per longer line, one Empty per message without a
// line; for Messages each message whole, Oversized or Empty; one Binary per
// binary message; a Torn for a message the socket cut (after the lines it
// completed), then an unexpected EOF.
func FuzzSplit(f *testing.F) {
	f.Add([]byte("a\nb\r\n\nccccc\n"), []byte{3, 0, 5, 200}, uint8(4), true, uint8(0))
	f.Add([]byte("\r\n\n\n"), []byte{1, 1}, uint8(1), true, uint8(0))
	f.Add([]byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\ny"), []byte{0x81}, uint8(7), false, uint8(0))
	f.Add([]byte("abc\r\ndefghijkl\nmn"), []byte{9}, uint8(5), true, uint8(6))
	f.Add([]byte("one\ntwo\nthree"), []byte{}, uint8(30), false, uint8(4))
	f.Fuzz(func(t *testing.T, data, cuts []byte, maxUnit uint8, lines bool, tear uint8) {
		max := int(maxUnit%40) + 1
		type msg struct {
			b      []byte
			binary bool
		}
		var msgs []msg
		for _, c := range cuts {
			n := min(int(c&0x7f), len(data))
			msgs, data = append(msgs, msg{data[:n], c&0x80 != 0}), data[n:]
		}
		msgs = append(msgs, msg{b: data})

		var want []string
		var lap []byte
		for i, m := range msgs {
			op := byte(1)
			if m.binary {
				op = 2
			}
			payload := m.b
			torn := tear != 0 && i == len(msgs)-1 && len(payload) > 0
			if torn {
				payload = payload[:int(tear)%len(payload)]
				lap = appendFrame(lap, op, m.b)
				lap = lap[:len(lap)-len(m.b)+len(payload)]
			} else {
				lap = appendFrame(lap, op, m.b)
			}
			switch {
			case m.binary && !torn:
				want = append(want, "<binary:"+strconv.Itoa(len(payload))+">")
				continue
			case m.binary:
			case !lines && !torn:
				want = append(want, expectMessage(payload, max))
			case lines:
				want = append(want, expectLines(payload, max, torn)...)
			}
			if torn {
				want = append(want, "<torn:"+strconv.Itoa(len(payload))+">")
			}
		}

		mc := &memConn{lap: lap}
		split := wsclient.Messages
		if lines {
			split = wsclient.Lines
		}
		c, _, err := wsclient.Dial(context.Background(), "ws://fuzz.invalid/", wsclient.Options{
			Dial: mc.dial, Split: split, MaxUnit: max,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var gotten []string
		for {
			b, err := c.Next()
			var ue *wsclient.UnitError
			if errors.As(err, &ue) {
				gotten = append(gotten, "<"+ue.Kind.String()+":"+strconv.Itoa(ue.Size)+">")
				continue
			}
			if err != nil {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("the end: %v", err)
				}
				break
			}
			if len(b) > max {
				t.Fatalf("a unit of %d bytes, max %d", len(b), max)
			}
			gotten = append(gotten, string(b))
			if n := wsclient.BufferCap(c); n > max+2 {
				t.Fatalf("a buffer of %d bytes, max %d", n, max)
			}
		}
		if strings.Join(gotten, "|") != strings.Join(want, "|") {
			t.Fatalf("max %d, lines %v, tear %d, messages %+v:\n got %q\nwant %q", max, lines, tear, msgs, gotten, want)
		}
	})
}

func expectMessage(m []byte, max int) string {
	switch {
	case len(m) == 0:
		return "<empty:0>"
	case len(m) > max:
		return "<oversized:" + strconv.Itoa(len(m)) + ">"
	}
	return string(m)
}

// expectLines splits one message; for a torn one only the lines its "\n"s
// completed count.
func expectLines(m []byte, max int, torn bool) []string {
	parts := bytes.Split(m, []byte("\n"))
	if torn {
		parts = parts[:len(parts)-1]
	}
	var out []string
	for _, l := range parts {
		l = bytes.TrimSuffix(l, []byte("\r"))
		switch {
		case len(l) == 0:
		case len(l) > max:
			out = append(out, "<oversized:"+strconv.Itoa(len(l))+">")
		default:
			out = append(out, string(l))
		}
	}
	if len(out) == 0 && !torn {
		out = append(out, "<empty:"+strconv.Itoa(len(m))+">")
	}
	return out
}
