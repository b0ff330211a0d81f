package callevents

import (
	"bytes"
	"errors"
	"sync"

	"github.com/firehose-go/firehose/wsclient"
)

// socket is one open WebSocket of a connection (a connection holds two for a moment while it moves
// to a fresh token), on wsclient: it pings every PingInterval, calls the connection's Alive for
// every pong, and fails with wsclient.ErrPongTimeout when a ping goes unanswered for PongWait while
// nothing at all arrives (a half-open socket); messages over the max event size are dropped in
// bounded memory. Its reader goroutine hands every message, dropped unit and end to the connection.
type socket struct {
	wc   *wsclient.Conn
	tok  *token
	seq  int // the connection's socket number, for logs
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// sockMsg is what a socket's reader hands over: a message, a dropped unit, or the error that ended
// the socket.
type sockMsg struct {
	sock    *socket
	data    []byte
	dropped *wsclient.UnitError
	err     error
}

// startSocket starts the reader of wc.
func startSocket(wc *wsclient.Conn, tok *token, seq int, out chan<- sockMsg) *socket {
	sk := &socket{wc: wc, tok: tok, seq: seq, done: make(chan struct{})}
	sk.wg.Add(1)
	go sk.read(out)
	return sk
}

func (sk *socket) read(out chan<- sockMsg) {
	defer sk.wg.Done()
	for {
		unit, err := sk.wc.Next()
		m := sockMsg{sock: sk}
		var ue *wsclient.UnitError
		switch {
		case errors.As(err, &ue):
			m.dropped = ue
		case err != nil:
			m.err = err
		default:
			m.data = bytes.Clone(unit) // the unit is valid until the next Next only
		}
		if !sk.hand(out, m) || m.err != nil {
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

// close leaves the socket — a close frame, a bounded wait for the server's — and waits for its
// reader. Safe to call more than once and from any goroutine.
func (sk *socket) close() {
	sk.once.Do(func() {
		close(sk.done)
		sk.wc.Close()
	})
	sk.wg.Wait()
}
