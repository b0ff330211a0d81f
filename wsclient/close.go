package wsclient

import (
	"io"
	"time"

	"github.com/gorilla/websocket"
)

// The end of a connection. Two things start it: Dial's ctx ending
// (interrupt, on the AfterFunc's goroutine) and Close (any goroutine). Both
// send our close frame once and put a deadline on the reader, which gorilla
// allows beside a blocked read; only Close reads (the drain), and it waits
// for Next to return first.

// halt records why the connection ends, once, and makes Next return it.
func (c *Conn) halt(cause error) {
	c.causeMu.Lock()
	if c.cause == nil {
		c.cause = cause
	}
	c.causeMu.Unlock()
	c.halted.Store(true)
}

// haltError is what Next returns once halted.
func (c *Conn) haltError() error {
	if c.closed.Load() {
		return ErrClosed
	}
	c.causeMu.Lock()
	defer c.causeMu.Unlock()
	return c.cause
}

// interrupt unblocks a read when ctx ends. When Abrupt says the peer is
// gone the read ends at once; otherwise the close handshake starts and the
// read ends with the server's close frame, or after CloseWait.
func (c *Conn) interrupt(cause error) {
	c.halt(cause)
	if c.o.Abrupt != nil && c.o.Abrupt(cause) {
		c.abrupt.Store(true)
		c.ws.SetReadDeadline(time.Now())
		return
	}
	c.goodbye()
	c.ws.SetReadDeadline(time.Now().Add(c.o.CloseWait))
}

// goodbye sends our close frame, once.
func (c *Conn) goodbye() {
	c.bye.Do(func() {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.o.CloseWait))
	})
}

// Close ends the connection: it sends a close frame (1000), waits up to
// Options.CloseWait for the server's, discarding the messages still in
// flight, closes the socket, and waits for the goroutines the Conn started
// (the pinger, the ctx callback). A Next blocked meanwhile returns
// ErrClosed. Close is idempotent and safe from any goroutine; it returns
// nil.
func (c *Conn) Close() error {
	c.closeOnce.Do(c.close)
	return nil
}

func (c *Conn) close() {
	c.closed.Store(true)
	c.halt(ErrClosed)
	if !c.stopAfter() {
		<-c.afterDone // ctx ended: let its callback finish
	}
	c.goodbye()
	deadline := time.Now().Add(c.o.CloseWait)
	if !c.abrupt.Load() {
		// Wakes a blocked Next when the server answers, or at the deadline.
		c.ws.SetReadDeadline(deadline)
	}
	c.rmu.Lock()
	if !c.broken && !c.abrupt.Load() {
		// Wait for the server's close frame, discarding what is in flight
		// (also bounded by the clock, should the socket ignore deadlines).
		for time.Now().Before(deadline) {
			_, r, err := c.ws.NextReader()
			if err != nil {
				break
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				break
			}
		}
		c.broken = true
	}
	c.buf, c.r = nil, nil
	c.rmu.Unlock()
	close(c.stop)
	c.ws.NetConn().Close()
	<-c.pingDone
}
