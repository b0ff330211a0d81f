package wsclient

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Pings keep middleboxes from timing an idle socket out, and with a
// PongWait they find a half-open one: a ping sent at T and unanswered, with
// the reader waiting on the socket since S and nothing arrived, proves the
// socket dead at max(S, T) + PongWait. A pong can only be seen while the
// caller reads (gorilla handles control frames inside Next), so a caller
// busy elsewhere never has its connection closed for a pong that waits
// unread in the socket's buffer.

// trackedConn records when the reader started waiting on the socket.
type trackedConn struct {
	net.Conn
	base         time.Time    // the origin of the monotonic clock below
	readingSince atomic.Int64 // ns since base when the pending Read began; 0: none pending
}

func (c *trackedConn) Read(p []byte) (int, error) {
	c.readingSince.Store(c.now())
	n, err := c.Conn.Read(p)
	c.readingSince.Store(0)
	return n, err
}

// now is the monotonic time since base, never 0.
func (c *trackedConn) now() int64 { return int64(time.Since(c.base)) | 1 }

// pinger sends a ping every o.PingEvery until stop is closed, and closes
// the socket when a pong is overdue (see above) or the socket refuses a
// write.
func (c *Conn) pinger() {
	defer close(c.pingDone)
	every, wait := c.o.PingEvery, c.o.PongWait
	tick := time.NewTicker(every)
	defer tick.Stop()
	check := time.NewTimer(time.Hour)
	check.Stop()
	var (
		pending bool  // a ping awaits its pong
		sentAt  int64 // when it was sent (trackedConn.now)
		pongsAt int64 // c.pongs before it was sent
	)
	for {
		select {
		case <-c.stop:
			return
		case <-check.C:
			if !pending {
				continue
			}
			if c.pongs.Load() != pongsAt {
				pending = false
				continue
			}
			since := c.tracked.readingSince.Load()
			if since == 0 {
				check.Reset(wait) // the caller is not reading: no verdict yet
				continue
			}
			if left := wait - time.Duration(c.tracked.now()-max(sentAt, since)); left > 0 {
				check.Reset(left)
				continue
			}
			c.dead.Store(ErrPongTimeout)
			c.ws.NetConn().Close() // wakes the reader
			return
		case <-tick.C:
		}
		// Read the clock and the pong count before the ping goes out: its
		// pong may arrive before WriteControl returns.
		var t, p int64
		if wait > 0 {
			t, p = c.tracked.now(), c.pongs.Load()
		}
		// gorilla makes a timed-out control write fatal for every later
		// write (writeFatal): a ping deadline as short as a fast PingEvery,
		// behind a busy writer or a full send buffer, would kill WriteText.
		// So a ping may wait as long as a write may.
		err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(max(every, c.o.WriteTimeout)))
		if err == nil {
			if wait > 0 && !pending {
				pending, sentAt, pongsAt = true, t, p
				check.Reset(wait)
			}
			continue
		}
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
			continue // closing, or a full send buffer: not a verdict
		}
		// The socket is dead: wake the reader now.
		c.dead.Store(fmt.Errorf("wsclient: ping: %w", err))
		c.ws.NetConn().Close()
		return
	}
}

// onPong is gorilla's pong handler; it runs inside Next.
func (c *Conn) onPong(string) error {
	c.pongs.Add(1)
	if c.o.OnPong != nil {
		c.o.OnPong()
	}
	return nil
}
