package wsclient_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// TestWriteTextBesideNext: WriteText from several goroutines while Next
// reads and the pinger pings (run with -race): every message arrives whole,
// each writer's in order, and every unit is read.
func TestWriteTextBesideNext(t *testing.T) {
	t.Parallel()
	const writers, perWriter, units = 4, 50, 300
	received := make(chan string, writers*perWriter)
	srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, quit <-chan struct{}) {
		go func() {
			for i := range units {
				if ws.WriteMessage(websocket.TextMessage, []byte(line(i, 200))) != nil {
					return
				}
			}
		}()
		for range writers * perWriter {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			received <- string(b)
		}
	})
	c := dial(t, srv, wsclient.Options{PingEvery: time.Millisecond})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if err := c.WriteText([]byte(strconv.Itoa(w) + ":" + strconv.Itoa(i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range units {
		expect(t, c, line(i, 200))
	}
	wg.Wait()
	last := map[string]int{}
	for k := range writers * perWriter {
		var m string
		select {
		case m = <-received:
		case <-time.After(20 * time.Second):
			t.Fatalf("the server received %d of %d messages", k, writers*perWriter)
		}
		w, i, _ := cut(m)
		if n, ok := last[w]; ok && i != n+1 || !ok && i != 0 {
			t.Fatalf("writer %s: message %d after %d", w, i, n)
		}
		last[w] = i
	}
}

func cut(m string) (string, int, bool) {
	for j := range len(m) {
		if m[j] == ':' {
			n, err := strconv.Atoi(m[j+1:])
			return m[:j], n, err == nil
		}
	}
	return m, -1, false
}
