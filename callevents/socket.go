package callevents

import (
	"io"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// socket is one open WebSocket of a connection (a connection holds two for a moment while it moves
// to a fresh token). Its reader goroutine hands every message to the connection; its pinger sends
// a ping every pingInterval. A socket that carries neither a frame nor a pong (nor a ping from the
// server) for pongWait fails its read: the reader's deadline is set before every read and pushed
// back by every pong, so the time the caller spends on an event never counts as silence.
type socket struct {
	ws   *websocket.Conn
	tok  *token
	seq  int // the connection's socket number, for logs
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// sockMsg is what a socket's reader hands over: a message, or the error that ended the socket.
type sockMsg struct {
	sock      *socket
	data      []byte
	oversized int // the size of a message larger than the max (its data discarded); 0 otherwise
	err       error
}

// startSocket starts the reader and the pinger of ws.
func startSocket(ws *websocket.Conn, tok *token, seq int, out chan<- sockMsg, alive func(), pingInterval, pongWait time.Duration, maxEvent int) *socket {
	sk := &socket{ws: ws, tok: tok, seq: seq, done: make(chan struct{})}
	lively := func() {
		ws.SetReadDeadline(time.Now().Add(pongWait))
		alive()
	}
	ws.SetPongHandler(func(string) error {
		lively()
		return nil
	})
	ws.SetPingHandler(func(data string) error {
		lively()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(controlWait))
		if err == websocket.ErrCloseSent {
			return nil
		}
		return err
	})
	sk.wg.Add(2)
	go sk.read(out, pongWait, maxEvent)
	go sk.ping(pingInterval)
	return sk
}

func (sk *socket) read(out chan<- sockMsg, pongWait time.Duration, maxEvent int) {
	defer sk.wg.Done()
	for {
		sk.ws.SetReadDeadline(time.Now().Add(pongWait))
		_, r, err := sk.ws.NextReader()
		if err != nil {
			sk.hand(out, sockMsg{sock: sk, err: err})
			return
		}
		m := sockMsg{sock: sk}
		m.data, m.oversized, err = readBounded(r, maxEvent)
		if err != nil {
			sk.hand(out, sockMsg{sock: sk, err: err})
			return
		}
		if !sk.hand(out, m) {
			return
		}
	}
}

// hand gives m to the connection; false once the socket is closed.
func (sk *socket) hand(out chan<- sockMsg, m sockMsg) bool {
	select {
	case out <- m:
		return true
	case <-sk.done:
		return false
	}
}

// readBounded reads a message of at most max bytes; a longer one is read to its end in bounded
// memory and reported by its size, its bytes discarded.
func readBounded(r io.Reader, max int) ([]byte, int, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, 0, err
	}
	if len(b) <= max {
		return b, 0, nil
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, 0, err
	}
	return nil, len(b) + int(n), nil
}

func (sk *socket) ping(every time.Duration) {
	defer sk.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-sk.done:
			return
		case <-t.C:
			// An error shows in the reader (the socket is dead or closing).
			sk.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(min(every, controlWait)))
		}
	}
}

// close leaves the socket: a close frame (best effort, bounded), then the connection is closed and
// both goroutines are waited for. Safe to call more than once and from any goroutine.
func (sk *socket) close() {
	sk.once.Do(func() {
		close(sk.done)
		sk.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(250*time.Millisecond))
		sk.ws.Close()
	})
	sk.wg.Wait()
}
