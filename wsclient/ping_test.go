package wsclient_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// pongingServer answers pings (by reading) and reports each on pings.
func pongingServer(t *testing.T, pings chan<- struct{}) string {
	srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) {
		ws.SetPingHandler(func(data string) error {
			select {
			case pings <- struct{}{}:
			default:
			}
			return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
	})
	return wsURL(srv)
}

// TestPingsAndPongs: pings go out every PingEvery, no more often, and
// OnPong is called for each pong while Next waits; pongs are not units.
func TestPingsAndPongs(t *testing.T) {
	t.Parallel()
	pings := make(chan struct{}, 100)
	url := pongingServer(t, pings)
	var pongs atomic.Int64
	pong := make(chan struct{}, 100)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	c, _, err := wsclient.Dial(ctx, url, wsclient.Options{PingEvery: 20 * time.Millisecond, PongWait: time.Minute, OnPong: func() {
		pongs.Add(1)
		pong <- struct{}{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		_, err := c.Next()
		done <- err
	}()
	t0 := time.Now()
	for range 3 {
		<-pings
	}
	if d := time.Since(t0); d < 40*time.Millisecond {
		t.Fatalf("three pings within %v, want no more often than every 20ms", d)
	}
	for range 3 {
		<-pong
	}
	errStop := errors.New("stop")
	cancel(errStop)
	if err := <-done; err != errStop {
		t.Fatalf("Next: %v, want only the ctx's end", err)
	}
	if pongs.Load() < 3 {
		t.Fatalf("%d pongs seen", pongs.Load())
	}
}

// TestPongWaitHalfOpen: a server that stops answering (its read loop stops,
// so no pongs, and sends nothing) is found within PingEvery+PongWait: Next
// returns ErrPongTimeout.
func TestPongWaitHalfOpen(t *testing.T) {
	t.Parallel()
	const every, wait = 20 * time.Millisecond, 40 * time.Millisecond
	srv := scriptServer(t, func(_ *websocket.Conn, _ *http.Request, quit <-chan struct{}) { <-quit })
	c := dial(t, srv, wsclient.Options{PingEvery: every, PongWait: wait, CloseWait: 10 * time.Millisecond})
	t0 := time.Now()
	_, err := c.Next()
	d := time.Since(t0)
	if !errors.Is(err, wsclient.ErrPongTimeout) {
		t.Fatalf("Next: %v", err)
	}
	// The verdict comes PongWait after the first unanswered ping, sent
	// PingEvery after Dial; the upper bound leaves room for a loaded machine.
	if d < wait || d > every+wait+2*time.Second {
		t.Fatalf("half-open socket found after %v, want %v", d, every+wait)
	}
	t.Logf("half-open socket found after %v (PingEvery+PongWait = %v)", d, every+wait)
}

// TestPongWaitBusyCaller: pongs that wait unread because the caller is
// busy elsewhere (not in Next) do not end the connection.
func TestPongWaitBusyCaller(t *testing.T) {
	t.Parallel()
	pings := make(chan struct{}, 100)
	send := make(chan struct{})
	srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, quit <-chan struct{}) {
		go func() { // the handler's read loop answers the pings meanwhile
			select {
			case <-send:
				ws.WriteMessage(websocket.TextMessage, []byte("late"))
			case <-quit:
			}
		}()
		ws.SetPingHandler(func(data string) error {
			select {
			case pings <- struct{}{}:
			default:
			}
			return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
	})
	c := dial(t, srv, wsclient.Options{PingEvery: 5 * time.Millisecond, PongWait: 10 * time.Millisecond})
	for range 10 { // many pong waits pass with nobody reading
		<-pings
	}
	close(send)
	expect(t, c, "late")
}

// TestPingWithoutPongWait: a silent server that never pongs keeps the
// connection when PongWait is 0.
func TestPingWithoutPongWait(t *testing.T) {
	t.Parallel()
	srv := scriptServer(t, func(_ *websocket.Conn, _ *http.Request, quit <-chan struct{}) { <-quit })
	ctx, cancel := context.WithCancelCause(context.Background())
	c := dialCtx(t, ctx, srv, wsclient.Options{PingEvery: time.Millisecond, CloseWait: time.Millisecond})
	time.AfterFunc(50*time.Millisecond, func() { cancel(context.Canceled) })
	if _, err := c.Next(); err != context.Canceled {
		t.Fatalf("Next: %v, want the ctx's end only", err)
	}
}
