package wsclient_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// TestLines: the Lines split as Cisco frames its events, and every unit
// problem reported on its own while the connection goes on.
func TestLines(t *testing.T) {
	t.Parallel()
	big := line(99, 3000)
	var req *http.Request
	srv := scriptServer(t, func(ws *websocket.Conn, r *http.Request, _ <-chan struct{}) {
		req = r
		text(ws, line(1, 50)+"\n")                                             // as Cisco sends it
		text(ws, line(2, 50))                                                  // no newline
		text(ws, line(3, 50)+"\n"+line(4, 50)+"\r\n\n"+line(5, 50))            // three lines, a blank one
		text(ws, "")                                                           // empty
		text(ws, "\r\n")                                                       // blank
		ws.WriteMessage(websocket.BinaryMessage, []byte(line(6, 50)))          // binary
		text(ws, big)                                                          // over the max: dropped, the connection lives
		text(ws, line(8, 50)+"\n{not json\n"+big+"\r\n"+line(10, 50))          // a line, another, an oversized one, a line
		text(ws, line(9, 1024)+"\n"+line(11, 1025)+"\r\n"+line(12, 1025)+"\r") // at, over, over the max
		closeWith(ws, 1013, "busy")
	})
	c := dial(t, srv, wsclient.Options{Split: wsclient.Lines, MaxUnit: 1024, Header: http.Header{"X-Api-Key": {"k3y"}}})
	expect(t, c, line(1, 50), line(2, 50), line(3, 50), line(4, 50), line(5, 50), "<empty:0>", "<empty:2>", "<binary:50>",
		"<oversized:3000>", line(8, 50), "{not json", "<oversized:3000>", line(10, 50), line(9, 1024), "<oversized:1025>", "<oversized:1025>")
	_, err := c.Next()
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != 1013 || ce.Text != "busy" || err.Error() != "wsclient: server closed the connection: close 1013 (try again later): busy" {
		t.Fatalf("close: %v", err)
	}
	if _, err2 := c.Next(); err2 != err {
		t.Fatalf("Next after the end: %v, want %v again", err2, err)
	}
	if req.Header.Get("X-Api-Key") != "k3y" {
		t.Fatalf("handshake header %v", req.Header)
	}
	if want := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC); !c.ServerTime().Equal(want) {
		t.Fatalf("server time %v, want %v", c.ServerTime(), want)
	}
}

// TestLineLimits: the max is per line, "\r\n" does not count, and a buffer
// of max+2 bytes carries lines across many reads.
func TestLineLimits(t *testing.T) {
	t.Parallel()
	const max = 1024
	var many strings.Builder
	for i := range 40 {
		many.WriteString(line(100+i, 900+i*3) + "\n")
	}
	srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) {
		text(ws, line(1, max))
		text(ws, line(2, max)+"\r\n")
		text(ws, line(3, max+1)+"\n")
		text(ws, line(4, max+1)+"\n"+line(5, 200)+"\n")
		text(ws, many.String())
		text(ws, line(6, 5000)+"\r\n"+line(7, max)+"\r\n"+line(8, max+1))
	})
	c := dial(t, srv, wsclient.Options{Split: wsclient.Lines, MaxUnit: max})
	want := []string{line(1, max), line(2, max), "<oversized:1025>", "<oversized:1025>", line(5, 200)}
	for i := range 40 {
		want = append(want, line(100+i, 900+i*3))
	}
	want = append(want, "<oversized:5000>", line(7, max), "<oversized:1025>")
	expect(t, c, want...)
	if n := wsclient.BufferCap(c); n > max+2 {
		t.Fatalf("buffer of %d bytes for lines of at most %d", n, max)
	}
}

// TestBufferLetGo: a unit over 256 KiB does not keep its buffer once the
// next message starts.
func TestBufferLetGo(t *testing.T) {
	t.Parallel()
	for _, split := range []wsclient.Split{wsclient.Lines, wsclient.Messages} {
		t.Run(split.String(), func(t *testing.T) {
			t.Parallel()
			huge := line(2, 600<<10)
			srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) {
				text(ws, line(1, 100))
				text(ws, huge)
				text(ws, line(3, 100))
			})
			c := dial(t, srv, wsclient.Options{Split: split, MaxUnit: 1 << 20})
			expect(t, c, line(1, 100), huge, line(3, 100))
			if n := wsclient.BufferCap(c); n > 256<<10 {
				t.Fatalf("a buffer of %d bytes kept after a large message", n)
			}
		})
	}
}

// TestTornMessage: a message cut by the end of the socket is reported as
// torn; the connection's end follows, as an unexpected EOF.
func TestTornMessage(t *testing.T) {
	t.Parallel()
	for _, split := range []wsclient.Split{wsclient.Lines, wsclient.Messages} {
		t.Run(split.String(), func(t *testing.T) {
			t.Parallel()
			srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) {
				l := []byte(line(1, 300) + "\n")
				ws.WriteMessage(websocket.TextMessage, l)
				hdr := []byte{0x81, 126, 0, 0}
				binary.BigEndian.PutUint16(hdr[2:], uint16(len(l)))
				ws.NetConn().Write(append(hdr, l[:len(l)/2]...))
				ws.NetConn().Close()
			})
			c := dial(t, srv, wsclient.Options{Split: split})
			first := line(1, 300)
			if split == wsclient.Messages {
				first += "\n"
			}
			expect(t, c, first, "<torn:150>")
			_, err := c.Next()
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("after the torn message: %v", err)
			}
		})
	}
}

// TestMessages: one message is one unit byte for byte, newlines and all;
// the max is per message.
func TestMessages(t *testing.T) {
	t.Parallel()
	const max = 1000
	multi := `{"a":1}` + "\n" + `{"b":2}` + "\r\n"
	srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) {
		text(ws, `{"type":"message"}`)
		text(ws, multi)
		text(ws, "")
		text(ws, "\r\n")
		ws.WriteMessage(websocket.BinaryMessage, []byte("bin"))
		text(ws, line(1, max))
		text(ws, line(2, max+1))
		text(ws, line(3, 70000)) // dropped across many reads
		text(ws, line(4, 10))
		closeWith(ws, 1000, "")
	})
	c := dial(t, srv, wsclient.Options{Split: wsclient.Messages, MaxUnit: max})
	expect(t, c, `{"type":"message"}`, multi, "<empty:0>", "\r\n", "<binary:3>", line(1, max), "<oversized:1001>", "<oversized:70000>", line(4, 10))
	_, err := c.Next()
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != 1000 || err.Error() != "wsclient: server closed the connection: close 1000 (normal closure)" {
		t.Fatalf("close: %v", err)
	}
	if n := wsclient.BufferCap(c); n > max+1 {
		t.Fatalf("buffer of %d bytes for messages of at most %d", n, max)
	}
}

// TestBinaryOption: with Binary set, a binary message is read like a text one.
func TestBinaryOption(t *testing.T) {
	t.Parallel()
	for _, split := range []wsclient.Split{wsclient.Lines, wsclient.Messages} {
		t.Run(split.String(), func(t *testing.T) {
			t.Parallel()
			srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) {
				ws.WriteMessage(websocket.BinaryMessage, []byte("a\nb"))
				text(ws, "c")
			})
			c := dial(t, srv, wsclient.Options{Split: split, Binary: true})
			want := []string{"a\nb", "c"}
			if split == wsclient.Lines {
				want = []string{"a", "b", "c"}
			}
			expect(t, c, want...)
		})
	}
}

// TestCompression: permessage-deflate is offered only when asked for, and
// inflated messages split as plain ones do.
func TestCompression(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		t.Run(strconv.FormatBool(on), func(t *testing.T) {
			t.Parallel()
			offered := make(chan bool, 1)
			var batch bytes.Buffer
			for i := range 50 {
				fmt.Fprintf(&batch, "%s\n", line(i, 500))
			}
			srv := scriptServer(t, func(ws *websocket.Conn, r *http.Request, _ <-chan struct{}) {
				offered <- strings.Contains(r.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate")
				ws.EnableWriteCompression(true)
				text(ws, batch.String())
				text(ws, line(1000, 2000)) // oversized, compressed
				text(ws, "end")
			})
			c := dial(t, srv, wsclient.Options{Split: wsclient.Lines, MaxUnit: 1024, Compression: on})
			var want []string
			for i := range 50 {
				want = append(want, line(i, 500))
			}
			expect(t, c, append(want, "<oversized:2000>", "end")...)
			if o := <-offered; o != on {
				t.Fatalf("compression offered: %v, want %v", o, on)
			}
		})
	}
}
