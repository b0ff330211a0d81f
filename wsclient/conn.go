package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Conn is one open WebSocket connection. Next is called from one goroutine
// at a time; WriteText and Close are safe from any goroutine, also while
// Next blocks.
//
// Next reads into a buffer the Conn reuses (gorilla's NextReader, no copy
// per message): a unit is only valid until the next call.
type Conn struct {
	ws      *websocket.Conn
	o       Options
	date    time.Time
	tracked *trackedConn // the socket under gorilla when PongWait is set

	rmu        sync.Mutex // held by Next, and by Close while it drains
	r          io.Reader  // the message being read; nil between messages
	buf        []byte     // buf[start:end] is read and not handed out; units handed out alias buf
	start, end int
	searched   int   // buf[start:searched] holds no '\n'
	discarding bool  // inside a unit longer than the max, dropping it as it comes
	dropped    int   // bytes of that unit so far
	droppedCR  bool  // the last of them was a "\r"
	msgLen     int   // bytes of the current message so far
	msgLines   bool  // the current message has held a line
	msgDone    bool  // the current message has been read to its end
	tornMsg    bool  // the connection ended inside the current message
	err        error // the connection's end, returned once the buffered units are out
	broken     bool  // a read failed: gorilla's conn must not be read again

	wmu sync.Mutex // one data writer at a time

	halted    atomic.Bool  // ctx ended or Close was called: Next returns cause
	closed    atomic.Bool  // Close was called
	dead      atomic.Value // error: why the pinger closed the socket
	abrupt    atomic.Bool  // ctx ended with a cause Abrupt accepted: no close handshake
	pongs     atomic.Int64
	causeMu   sync.Mutex
	cause     error
	stopAfter func() bool   // unregisters the ctx callback
	afterDone chan struct{} // closed when the ctx callback has run
	bye       sync.Once
	closeOnce sync.Once
	stop      chan struct{} // closed by Close: stops the pinger
	pingDone  chan struct{} // closed when the pinger has returned
}

func newConn(ctx context.Context, ws *websocket.Conn, resp *http.Response, tracked *trackedConn, o Options) *Conn {
	c := &Conn{
		ws:        ws,
		o:         o,
		tracked:   tracked,
		afterDone: make(chan struct{}),
		stop:      make(chan struct{}),
		pingDone:  make(chan struct{}),
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		c.date = d
	}
	// Next skips oversized units in bounded memory, whatever the message's
	// size; past gorilla's own limit the connection dies (and a replay would
	// bring the same message back forever), so that limit is only a far
	// larger hard cap.
	if o.ReadLimit > 0 {
		ws.SetReadLimit(o.ReadLimit)
	}
	ws.EnableWriteCompression(false)
	if o.PongWait > 0 || o.OnPong != nil {
		ws.SetPongHandler(c.onPong)
	}
	c.stopAfter = context.AfterFunc(ctx, func() {
		defer close(c.afterDone)
		c.interrupt(context.Cause(ctx))
	})
	if o.PingEvery > 0 {
		go c.pinger()
	} else {
		close(c.pingDone)
	}
	return c
}

// ServerTime is the server's clock when the connection opened (the
// handshake response's Date header), or the zero time if it sent none.
func (c *Conn) ServerTime() time.Time { return c.date }

// Next returns the next unit: a line (Split Lines) or a message (Split
// Messages). The bytes are valid until the next call to Next or Close.
//
// A *UnitError is about one unit alone (oversized, binary, empty): the
// connection goes on, except after Torn, which precedes its end. Any other
// error is the connection's end, and Next returns it again if called
// again:
//
//   - a *CloseError: the server sent a close frame;
//   - an error wrapping io.ErrUnexpectedEOF: the socket ended without one;
//   - ErrPongTimeout, ErrReadLimit, or a network error;
//   - context.Cause of Dial's ctx, once that ctx has ended;
//   - ErrClosed after Close.
func (c *Conn) Next() ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.o.Split == Lines {
		return c.nextLine()
	}
	return c.nextMessage()
}

// nextLine splits the messages into lines in bounded memory: a line longer
// than the max is dropped as it arrives while the message's other lines
// still get through, and the buffer grows only while one line needs it.
func (c *Conn) nextLine() ([]byte, error) {
	for !c.halted.Load() {
		if i := bytes.IndexByte(c.buf[c.searched:c.end], '\n'); i >= 0 {
			nl := c.searched + i
			line := c.buf[c.start:nl]
			c.start, c.searched = nl+1, nl+1
			if c.discarding {
				c.discarding = false
				return nil, c.tooLong(line)
			}
			if line, err := c.deliverLine(line); line != nil || err != nil {
				return line, err
			}
			continue
		}
		c.searched = c.end
		if c.discarding || c.end-c.start > c.o.MaxUnit+1 {
			// Too long whatever comes next: drop it as it arrives.
			if c.end > c.start {
				c.droppedCR = c.buf[c.end-1] == '\r'
			}
			c.dropped += c.end - c.start
			c.discarding = true
			c.start, c.end, c.searched = 0, 0, 0
		}
		switch {
		case c.msgDone: // the message's end ends its last line
			line := c.buf[c.start:c.end]
			c.start, c.end, c.searched = 0, 0, 0
			c.msgDone = false
			if c.discarding {
				c.discarding = false
				return nil, c.tooLong(line)
			}
			if line, err := c.deliverLine(line); line != nil || err != nil {
				return line, err
			}
			if !c.msgLines {
				return nil, &UnitError{Kind: Empty, Size: c.msgLen}
			}
			continue
		case c.tornMsg:
			return nil, c.torn()
		case c.err != nil:
			return nil, c.err
		}
		if err := c.read(); err != nil {
			return nil, err
		}
	}
	return nil, c.haltError()
}

// deliverLine trims one "\r"; a blank line gives nil, nil and is skipped.
func (c *Conn) deliverLine(line []byte) ([]byte, error) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) == 0 {
		return nil, nil
	}
	c.msgLines = true
	if len(line) > c.o.MaxUnit {
		return nil, &UnitError{Kind: Oversized, Size: len(line)}
	}
	return line, nil
}

// tooLong reports the line being dropped, whose last bytes are tail; like a
// delivered line, its size excludes a final "\r".
func (c *Conn) tooLong(tail []byte) error {
	size := c.dropped + len(tail)
	if n := len(tail); (n > 0 && tail[n-1] == '\r') || (n == 0 && c.droppedCR) {
		size--
	}
	c.dropped, c.droppedCR = 0, false
	c.msgLines = true
	return &UnitError{Kind: Oversized, Size: size}
}

// nextMessage hands out whole messages, dropping a message longer than the
// max as it arrives.
func (c *Conn) nextMessage() ([]byte, error) {
	for !c.halted.Load() {
		switch {
		case c.msgDone:
			n := c.end
			c.end, c.msgDone = 0, false
			switch {
			case c.discarding || n > c.o.MaxUnit:
				size := c.dropped + n
				c.discarding, c.dropped = false, 0
				return nil, &UnitError{Kind: Oversized, Size: size}
			case n == 0:
				return nil, &UnitError{Kind: Empty}
			}
			return c.buf[:n:n], nil
		case c.tornMsg:
			return nil, c.torn()
		case c.err != nil:
			return nil, c.err
		}
		if c.discarding || c.end > c.o.MaxUnit {
			c.dropped += c.end
			c.discarding = true
			c.end = 0
		}
		if err := c.read(); err != nil {
			return nil, err
		}
	}
	return nil, c.haltError()
}

func (c *Conn) torn() error {
	size := c.msgLen
	c.tornMsg, c.discarding, c.dropped, c.droppedCR = false, false, 0, false
	c.start, c.end, c.searched = 0, 0, 0
	return &UnitError{Kind: Torn, Size: size}
}

// read reads once from the current message, starting the next one first if
// needed (a binary message is drained and reported unless Binary is set).
// A non-nil error is a unit's or the connection's end to return now.
func (c *Conn) read() error {
	if c.r == nil {
		if c.broken {
			return c.err
		}
		if cap(c.buf) > keepBuffer {
			c.buf = nil // let a huge unit's memory go
		}
		typ, r, err := c.ws.NextReader()
		if err != nil {
			c.err = c.fail(err)
			return c.err
		}
		if typ != websocket.TextMessage && !c.o.Binary {
			n, err := io.Copy(io.Discard, r)
			if err != nil {
				c.err = c.fail(err)
				return &UnitError{Kind: Torn, Size: int(n)}
			}
			return &UnitError{Kind: Binary, Size: int(n)}
		}
		c.r, c.msgLen, c.msgLines = r, 0, false
	}
	if c.start > 0 {
		n := copy(c.buf, c.buf[c.start:c.end])
		c.searched -= c.start
		c.start, c.end = 0, n
	}
	if c.end == len(c.buf) {
		// A partial unit fills the buffer: grow it, up to the max and what
		// proves a unit too long ("\r\n" for a line, one byte for a message).
		limit := c.o.MaxUnit + 1
		if c.o.Split == Lines {
			limit++
		}
		nb := make([]byte, min(max(2*len(c.buf), initialBuffer), limit))
		copy(nb, c.buf[:c.end])
		c.buf = nb
	}
	n, err := c.r.Read(c.buf[c.end:])
	c.end += n
	c.msgLen += n
	switch {
	case err == io.EOF:
		c.r, c.msgDone = nil, true
	case err != nil:
		c.r, c.tornMsg = nil, true
		c.err = c.fail(err)
	}
	return nil
}

// fail marks the conn unusable and words the read error: a close frame
// carries its code and reason; the end of a socket without one is a cut.
func (c *Conn) fail(err error) error {
	c.broken = true
	if c.halted.Load() {
		return c.haltError()
	}
	if e, _ := c.dead.Load().(error); e != nil {
		return e
	}
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure:
		// gorilla's name for a socket that ended without a close frame
		// (1006 is never sent on the wire).
		return fmt.Errorf("wsclient: connection ended without a close frame: %w", io.ErrUnexpectedEOF)
	case errors.As(err, &ce):
		return &CloseError{Code: ce.Code, Text: sanitize(ce.Text)}
	case errors.Is(err, websocket.ErrReadLimit):
		return ErrReadLimit
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("wsclient: connection ended inside a frame: %w", err)
	}
	return fmt.Errorf("wsclient: read: %w", err)
}

// WriteText sends b as one text message. It is safe beside Next and other
// WriteText calls (they are serialised), and bounded by
// Options.WriteTimeout; after an error the connection cannot be written
// again. It returns ErrClosed after Close.
func (c *Conn) WriteText(b []byte) error {
	if c.closed.Load() {
		return ErrClosed
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(c.o.WriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		if c.closed.Load() || errors.Is(err, websocket.ErrCloseSent) {
			return ErrClosed
		}
		return fmt.Errorf("wsclient: write: %w", err)
	}
	return nil
}
