package wsclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// TestCloses: how each end of a connection reads, after the units before it.
func TestCloses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		do   func(ws *websocket.Conn)
		code int    // of the *CloseError; 0: none
		text string // in the error
	}{
		{"normal", func(ws *websocket.Conn) { closeWith(ws, 1000, "bye") }, 1000, "close 1000 (normal closure): bye"},
		{"going away", func(ws *websocket.Conn) { closeWith(ws, 1001, "") }, 1001, "close 1001 (going away)"},
		{"try again later", func(ws *websocket.Conn) { closeWith(ws, 1013, "later") }, 1013, "close 1013 (try again later): later"},
		{"internal error", func(ws *websocket.Conn) { closeWith(ws, 1011, "boom") }, 1011, "close 1011 (internal server error): boom"},
		{"policy", func(ws *websocket.Conn) { closeWith(ws, 1008, "key?") }, 1008, "close 1008 (policy violation): key?"},
		{"private code", func(ws *websocket.Conn) { closeWith(ws, 4001, "custom") }, 4001, "close 4001: custom"},
		{"no status", func(ws *websocket.Conn) {
			ws.WriteControl(websocket.CloseMessage, nil, time.Now().Add(time.Second))
		}, 1005, "close 1005 (no status)"},
		{"escapes", func(ws *websocket.Conn) { closeWith(ws, 4000, "\x1b[31mred\x1b[0m\x07 \x1b]0;title\x07x\u202e\x00y") }, 4000, "close 4000: red xy"},
		{"cut", func(ws *websocket.Conn) { ws.NetConn().Close() }, 0, "without a close frame"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) {
				text(ws, "unit-1")
				c.do(ws)
			})
			conn := dial(t, srv, wsclient.Options{})
			expect(t, conn, "unit-1")
			_, err := conn.Next()
			var ce *wsclient.CloseError
			if err == nil || !strings.Contains(err.Error(), c.text) || errors.As(err, &ce) != (c.code != 0) ||
				(c.code != 0 && ce.Code != c.code) || (c.code == 0 && !errors.Is(err, io.ErrUnexpectedEOF)) {
				t.Fatalf("err %v, want code %d and %q", err, c.code, c.text)
			}
			if _, err2 := conn.Next(); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("Next after the end: %v", err2)
			}
		})
	}
}

// TestCloseHandshake: Close sends close 1000 and returns once the server
// answers; Next and WriteText then say ErrClosed; Close again is a no-op.
func TestCloseHandshake(t *testing.T) {
	t.Parallel()
	closed := make(chan int, 1)
	srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) {
		ws.SetCloseHandler(func(code int, _ string) error {
			closed <- code
			closeWith(ws, code, "")
			return nil
		})
		text(ws, "in flight") // discarded by Close
	})
	c := dial(t, srv, wsclient.Options{CloseWait: time.Minute})
	done := make(chan struct{})
	go func() {
		c.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close waited for the full close wait though the server answered")
	}
	if code := <-closed; code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d", code)
	}
	if _, err := c.Next(); !errors.Is(err, wsclient.ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if err := c.WriteText([]byte("x")); !errors.Is(err, wsclient.ErrClosed) {
		t.Fatalf("WriteText after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseWaitIsBounded: a server that never answers the close frame holds
// Close for the close wait, no longer.
func TestCloseWaitIsBounded(t *testing.T) {
	t.Parallel()
	srv := scriptServer(t, func(_ *websocket.Conn, _ *http.Request, quit <-chan struct{}) { <-quit }) // reads nothing
	c := dial(t, srv, wsclient.Options{CloseWait: 50 * time.Millisecond})
	t0 := time.Now()
	c.Close()
	if d := time.Since(t0); d < 50*time.Millisecond || d > 10*time.Second {
		t.Fatalf("Close took %v, want the close wait (50ms)", d)
	}
}

// TestCloseUnblocksNext: Close from another goroutine ends a blocked Next
// with ErrClosed.
func TestCloseUnblocksNext(t *testing.T) {
	t.Parallel()
	srv := scriptServer(t, func(*websocket.Conn, *http.Request, <-chan struct{}) {})
	c := dial(t, srv, wsclient.Options{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Next()
		done <- err
	}()
	c.Close()
	if err := <-done; !errors.Is(err, wsclient.ErrClosed) {
		t.Fatalf("Next: %v", err)
	}
}

// TestCtxEndsTheConn: when Dial's ctx ends, the Conn says goodbye and a
// blocked Next returns the ctx's cause once the server has answered.
func TestCtxEndsTheConn(t *testing.T) {
	t.Parallel()
	closed := make(chan int, 1)
	srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) {
		ws.SetCloseHandler(func(code int, _ string) error {
			closed <- code
			closeWith(ws, code, "")
			return nil
		})
	})
	ctx, cancel := context.WithCancelCause(context.Background())
	c := dialCtx(t, ctx, srv, wsclient.Options{CloseWait: time.Minute})
	done := make(chan error, 1)
	go func() {
		_, err := c.Next()
		done <- err
	}()
	errMine := errors.New("my cause")
	cancel(errMine)
	if err := <-done; err != errMine {
		t.Fatalf("Next: %v", err)
	}
	if code := <-closed; code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d", code)
	}
	if _, err := c.Next(); err != errMine {
		t.Fatalf("Next again: %v", err)
	}
}

// TestCtxEndBoundedByCloseWait: a server that never answers our close frame
// holds a Next whose ctx ended for the close wait at most.
func TestCtxEndBoundedByCloseWait(t *testing.T) {
	t.Parallel()
	srv := scriptServer(t, func(_ *websocket.Conn, _ *http.Request, quit <-chan struct{}) { <-quit })
	ctx, cancel := context.WithCancelCause(context.Background())
	c := dialCtx(t, ctx, srv, wsclient.Options{CloseWait: 50 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, err := c.Next()
		done <- err
	}()
	errMine := errors.New("my cause")
	cancel(errMine)
	select {
	case err := <-done:
		if err != errMine {
			t.Fatalf("Next: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Next held past the close wait")
	}
}

// TestAbrupt: a ctx cause Abrupt accepts ends a blocked Next at once, even
// with a long close wait and a server that never answers.
func TestAbrupt(t *testing.T) {
	t.Parallel()
	errIdle := errors.New("idle")
	srv := scriptServer(t, func(_ *websocket.Conn, _ *http.Request, quit <-chan struct{}) { <-quit })
	ctx, cancel := context.WithCancelCause(context.Background())
	c := dialCtx(t, ctx, srv, wsclient.Options{CloseWait: time.Hour, Abrupt: func(err error) bool { return err == errIdle }})
	done := make(chan error, 1)
	go func() {
		_, err := c.Next()
		done <- err
	}()
	cancel(errIdle)
	select {
	case err := <-done:
		if err != errIdle {
			t.Fatalf("Next: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("an abrupt end waited for the close handshake")
	}
	t0 := time.Now()
	c.Close() // the reader failed: no wait for a close frame
	if d := time.Since(t0); d > 30*time.Second {
		t.Fatalf("Close after an abrupt end took %v", d)
	}
}
