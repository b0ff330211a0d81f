package wsclient_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// serverDate is the Date every script server sends with its 101.
const serverDate = "Tue, 14 Nov 2023 22:13:20 GMT"

// script runs on the server side of one connection. quit is closed when the
// test ends; a script that blocks must return on it.
type script func(ws *websocket.Conn, r *http.Request, quit <-chan struct{})

// scriptServer upgrades every request and runs s on it, then reads (which
// answers pings and the client's close frame) until the client goes. The
// test's cleanup closes the sockets it still holds and waits for its
// handlers.
func scriptServer(t testing.TB, s script) *httptest.Server {
	t.Helper()
	var wg sync.WaitGroup
	quit := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		up := websocket.Upgrader{EnableCompression: true}
		ws, err := up.Upgrade(w, r, http.Header{"Date": {serverDate}})
		if err != nil {
			return
		}
		defer ws.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { // the end of the test closes the socket
			select {
			case <-quit:
				ws.NetConn().Close()
			case <-ctx.Done():
			}
		}()
		s(ws, r, quit)
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		close(quit)
		srv.Close()
		wg.Wait()
	})
	return srv
}

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

func dial(t testing.TB, srv *httptest.Server, o wsclient.Options) *wsclient.Conn {
	t.Helper()
	return dialCtx(t, context.Background(), srv, o)
}

func dialCtx(t testing.TB, ctx context.Context, srv *httptest.Server, o wsclient.Options) *wsclient.Conn {
	t.Helper()
	c, _, err := wsclient.Dial(ctx, wsURL(srv), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func text(ws *websocket.Conn, s string) { ws.WriteMessage(websocket.TextMessage, []byte(s)) }

func closeWith(ws *websocket.Conn, code int, reason string) {
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
}

// got describes what Next returned: the unit, or "<kind:size>" for a
// dropped one; err is the connection's end.
func got(c *wsclient.Conn) (string, error) {
	b, err := c.Next()
	var ue *wsclient.UnitError
	switch {
	case err == nil:
		return string(b), nil
	case errors.As(err, &ue):
		return "<" + ue.Kind.String() + ":" + strconv.Itoa(ue.Size) + ">", nil
	}
	return "", err
}

// expect reads len(want) units and compares them.
func expect(t *testing.T, c *wsclient.Conn, want ...string) {
	t.Helper()
	for i, w := range want {
		g, err := got(c)
		if err != nil || g != w {
			t.Fatalf("unit %d: %.80q, %v; want %.80q", i, g, err, w)
		}
	}
}

// line is a line of exactly n bytes (n >= 10) numbered i.
func line(i, n int) string {
	head := "line-" + strconv.Itoa(i) + ":"
	return head + strings.Repeat("p", n-len(head))
}

// appendFrame frames one unmasked server message.
func appendFrame(b []byte, op byte, payload []byte) []byte {
	b = append(b, 0x80|op)
	switch n := len(payload); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// memConn is a net.Conn that answers the upgrade request itself, then
// serves a lap of prebuilt server frames from memory, once (then io.EOF) or
// over and over. Whatever the client writes after the upgrade is dropped.
type memConn struct {
	lap      []byte
	loop     bool
	req      []byte
	resp     []byte
	off      int
	answered bool
	closed   atomic.Bool
}

func (c *memConn) dial(context.Context, string, string) (net.Conn, error) { return c, nil }

func (c *memConn) Read(p []byte) (int, error) {
	if len(c.resp) > 0 {
		n := copy(p, c.resp)
		c.resp = c.resp[n:]
		return n, nil
	}
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	if c.off == len(c.lap) {
		if !c.loop || len(c.lap) == 0 {
			return 0, io.EOF
		}
		c.off = 0
	}
	n := copy(p, c.lap[c.off:])
	c.off += n
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) {
	if c.answered {
		return len(p), nil
	}
	c.req = append(c.req, p...)
	if !bytes.Contains(c.req, []byte("\r\n\r\n")) {
		return len(p), nil
	}
	c.answered = true
	var key string
	for _, l := range strings.Split(string(c.req), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Sec-WebSocket-Key") {
			key = strings.TrimSpace(v)
		}
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	c.resp = []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n")
	return len(p), nil
}

func (c *memConn) Close() error                     { c.closed.Store(true); return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
