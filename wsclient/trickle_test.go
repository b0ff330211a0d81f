package wsclient_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// After a dense burst (which turns read coalescing on where there is one;
// the burst's last read may already have turned it off again), a frame
// alone on a quiet socket still arrives at once: the coalescing wait is
// bounded. The log says which case ran; the internal
// TestCoalesceOnWhenDenseOffWhenSparse pins the "on" case.
func TestLoneFrameAfterBurstArrivesPromptly(t *testing.T) {
	const burst = 5000
	srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, quit <-chan struct{}) {
		for i := range burst {
			text(ws, "event "+strconv.Itoa(i)) // one frame per write(2)
		}
		if _, _, err := ws.ReadMessage(); err != nil { // the client has read them all
			return
		}
		text(ws, "alone")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := dialCtx(t, ctx, srv, wsclient.Options{})
	for i := range burst {
		b, err := c.Next()
		if err != nil || string(b) != "event "+strconv.Itoa(i) {
			t.Fatalf("unit %d = %q, %v", i, b, err)
		}
	}
	on := wsclient.Coalescing(c)
	if err := c.WriteText([]byte("ready")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b, err := c.Next()
	if err != nil || string(b) != "alone" {
		t.Fatalf("Next = %q, %v", b, err)
	}
	d := time.Since(start)
	if d > 50*time.Millisecond {
		t.Errorf("a lone frame took %v to arrive", d)
	}
	t.Logf("coalescing when the burst ended: %v; the lone frame took %v (request included)", on, d)
}
