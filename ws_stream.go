package firehose

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The WebSocket channel: the same path, parameters and handshake statuses as
// the HTTP channel, the key in the handshake's X-API-Key header, one JSON
// event per text message (a trailing "\n" tolerated, several lines in one
// message read as several events).
//
// The engine's goroutine reads (NextReader into a buffer the conn reuses);
// pings go out through WriteControl, which is safe beside the reader. Pongs
// never feed the idle clock: only data messages do.
//
// Compression (WithCompression) is permessage-deflate without context
// takeover, negotiated at the handshake. It is a bandwidth-for-CPU trade:
// measured on a 2-core machine with 1.3 KB DEVICE_LOCATION_UPDATE events
// (BenchmarkWSCompression), it cuts the bytes on the wire by about 45%
// (1438 to 785 per event) and costs about 25 µs of CPU per event to
// inflate, some 12 times the whole uncompressed pipeline (about 2 µs). Off by
// default; worth it only where bandwidth, not CPU, is the limit.

const (
	wsInitialBuffer = 16 << 10  // first size of a conn's line buffer
	wsKeepBuffer    = 256 << 10 // a larger buffer is let go after its message
	wsMaxCloseWait  = time.Second
	wsReadBuffer    = 32 << 10 // gorilla's bufio.Reader over the socket
	wsWriteBuffer   = 256      // we write control frames only
)

var (
	errWSBinary = errors.New("ws: binary message")
	errWSEmpty  = errors.New("ws: empty message")
	errWSTorn   = errors.New("ws: connection lost inside a message")
	errWSLong   = errors.New("ws: line larger than the max event size")
)

type wsConnector struct {
	cfg    *config
	base   *url.URL         // the endpoint as ws:// or wss://
	dialer websocket.Dialer // a template: each attempt copies it with a dial of its own
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newWSConnector(cfg *config) (*wsConnector, error) {
	base := *cfg.endpoint
	switch base.Scheme {
	case "https":
		base.Scheme = "wss"
	case "http":
		base.Scheme = "ws"
	default:
		return nil, fatalf("ws: endpoint scheme %q: want https or http", base.Scheme)
	}
	// A clone of its own, offering only http/1.1: an "h2" ALPN (from a config
	// shared with net/http) would break the upgrade.
	tc := &tls.Config{}
	if cfg.tlsConfig != nil {
		tc = cfg.tlsConfig.Clone()
	}
	tc.NextProtos = []string{"http/1.1"}
	w := &wsConnector{
		cfg:  cfg,
		base: &base,
		dialer: websocket.Dialer{
			Proxy:             proxyFunc(), // a custom Dialer has no proxy unless given one
			TLSClientConfig:   tc,
			HandshakeTimeout:  defaultHandshakeDeadline,
			ReadBufferSize:    wsReadBuffer,
			WriteBufferSize:   wsWriteBuffer,
			EnableCompression: cfg.wsCompression,
		},
		dial: cfg.dial,
	}
	if w.dial == nil {
		d := &net.Dialer{Timeout: defaultHandshakeDeadline, KeepAlive: 30 * time.Second}
		w.dial = d.DialContext
	}
	return w, nil
}

func (w *wsConnector) Close() error { return nil } // nothing pooled: each conn owns its socket

func (w *wsConnector) Connect(ctx context.Context, req ConnectRequest) (Conn, error) {
	// gorilla watches ctx while dialing and during TLS, not while it writes the
	// request and reads the response: the guard closes the socket when ctx
	// ends, so idle detection and Close reach a server that never answers.
	g := &dialGuard{dial: w.dial}
	d := w.dialer
	d.NetDialContext = g.dialContext
	stop := context.AfterFunc(ctx, g.abort)
	hdr := http.Header{}
	hdr.Set("X-API-Key", string(w.cfg.key))
	hdr.Set("User-Agent", userAgent)
	ws, resp, err := d.DialContext(ctx, requestURL(w.base, req, w.cfg).String(), hdr)
	aborted := !stop()
	if err != nil {
		if resp != nil && errors.Is(err, websocket.ErrBadHandshake) && !aborted {
			return nil, statusFromResponse("ws", resp, w.cfg.now())
		}
		return nil, classifyDialError(fmt.Errorf("ws: handshake: %w", err))
	}
	if aborted {
		ws.NetConn().Close()
		return nil, context.Cause(ctx)
	}
	return newWSConn(ctx, ws, resp, w.cfg), nil
}

// dialGuard remembers the socket of one handshake so abort can close it.
type dialGuard struct {
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	mu      sync.Mutex
	c       net.Conn
	aborted bool
}

func (g *dialGuard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := g.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.aborted {
		c.Close()
		return nil, context.Cause(ctx)
	}
	g.c = c
	return c, nil
}

func (g *dialGuard) abort() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.aborted = true
	if g.c != nil {
		g.c.Close()
	}
}

// wsConn is one WebSocket connection. next and close run on the engine's
// goroutine; the pinger and the cancellation callback only write control
// frames and set deadlines, which gorilla allows beside the reader.
type wsConn struct {
	ws        *websocket.Conn
	date      time.Time
	max       int
	closeWait time.Duration

	r          io.Reader // the message being read; nil between messages
	buf        []byte    // buf[start:end] is read and not handed out; lines handed out alias buf
	start, end int
	searched   int   // buf[start:searched] holds no '\n'
	discarding bool  // inside a line longer than the max, dropping it up to its '\n'
	dropped    int   // bytes of that line so far
	msgLen     int   // bytes of the current message so far
	msgLines   bool  // the current message has held a line
	msgDone    bool  // the current message has been read to its end
	tornMsg    bool  // the connection ended inside the current message
	err        error // the connection's end, returned once the buffered lines are out
	broken     bool  // the reader failed: gorilla's conn is unusable

	canceled  atomic.Bool
	cause     error // why ctx ended; written before canceled is set
	stopAfter func() bool
	bye       sync.Once
	stop      chan struct{}
	pingDone  chan struct{}
}

func newWSConn(ctx context.Context, ws *websocket.Conn, resp *http.Response, cfg *config) *wsConn {
	c := &wsConn{
		ws:        ws,
		max:       cfg.maxEvent,
		closeWait: min(wsMaxCloseWait, cfg.idle/4),
		stop:      make(chan struct{}),
		pingDone:  make(chan struct{}),
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		c.date = d
	}
	// Next skips oversized lines in bounded memory, whatever the message's
	// size; past gorilla's own limit the connection would die and a replay
	// would bring the same message back forever, so there is none.
	ws.SetReadLimit(0)
	ws.EnableWriteCompression(false)
	c.stopAfter = context.AfterFunc(ctx, func() { c.interrupt(ctx) })
	go c.pinger(max(cfg.idle/3, time.Millisecond))
	return c
}

// interrupt unblocks a read when ctx ends. After an idle timeout the peer is
// presumed gone and the read ends at once; otherwise (Close, the caller's ctx)
// the close handshake starts and the read ends with the server's close frame,
// or after closeWait.
func (c *wsConn) interrupt(ctx context.Context) {
	c.cause = context.Cause(ctx)
	c.canceled.Store(true)
	if errors.Is(c.cause, ErrIdleTimeout) {
		c.ws.SetReadDeadline(time.Now())
		return
	}
	c.goodbye()
	c.ws.SetReadDeadline(time.Now().Add(c.closeWait))
}

// goodbye sends our close frame, once.
func (c *wsConn) goodbye() {
	c.bye.Do(func() {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.closeWait))
	})
}

// pinger keeps middleboxes from timing the socket out and finds a dead one
// early. It never touches the idle clock: a pong proves the socket, not the
// firehose.
func (c *wsConn) pinger(every time.Duration) {
	defer close(c.pingDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(every))
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
			continue // closing, or a full send buffer: the idle clock decides
		}
		// The socket is dead: wake the reader now rather than at the idle timeout.
		c.ws.NetConn().Close()
		return
	}
}

func (c *wsConn) ServerTime() time.Time { return c.date }

// next splits the messages into lines in bounded memory: a message may hold
// several lines (the "\n" after the last one is optional), a line longer than
// the max is dropped as it arrives while the message's other lines still get
// through, and the buffer grows only while one line needs it.
func (c *wsConn) Next(f *Frame) error {
	for !c.canceled.Load() {
		if i := bytes.IndexByte(c.buf[c.searched:c.end], '\n'); i >= 0 {
			nl := c.searched + i
			line := c.buf[c.start:nl]
			c.start, c.searched = nl+1, nl+1
			if c.discarding {
				c.discarding = false
				return c.tooLong(len(line))
			}
			if ok, err := c.deliver(f, line); ok {
				return err
			}
			continue
		}
		c.searched = c.end
		if c.discarding || c.end-c.start > c.max+1 {
			// Too long whatever comes next: drop it as it arrives.
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
				return c.tooLong(0)
			}
			if ok, err := c.deliver(f, line); ok {
				return err
			}
			if !c.msgLines {
				return &FrameError{Reason: DropEmpty, Size: c.msgLen, Err: errWSEmpty}
			}
			continue
		case c.tornMsg: // the connection ended inside a message
			c.tornMsg, c.discarding, c.dropped = false, false, 0
			c.start, c.end, c.searched = 0, 0, 0
			return &FrameError{Reason: DropTorn, Size: c.msgLen, Err: errWSTorn}
		case c.err != nil:
			return c.err
		}
		if err := c.read(); err != nil {
			return err
		}
	}
	return c.cause
}

// deliver hands out one line (without its "\r"); ok is false for a blank
// line, which is skipped.
func (c *wsConn) deliver(f *Frame, line []byte) (ok bool, err error) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) == 0 {
		return false, nil
	}
	c.msgLines = true
	if len(line) > c.max {
		return true, &FrameError{Reason: DropOversized, Size: len(line), Err: errWSLong}
	}
	return true, scanJSON(f, line)
}

func (c *wsConn) tooLong(n int) error {
	size := c.dropped + n
	c.dropped = 0
	c.msgLines = true
	return &FrameError{Reason: DropOversized, Size: size, Err: errWSLong}
}

// read reads once from the current message, starting the next one first if
// needed (a binary message is drained and reported).
func (c *wsConn) read() error {
	if c.r == nil {
		if cap(c.buf) > wsKeepBuffer {
			c.buf = nil // let a huge line's memory go
		}
		typ, r, err := c.ws.NextReader()
		if err != nil {
			return c.fail(err)
		}
		if typ != websocket.TextMessage {
			n, err := io.Copy(io.Discard, r)
			if err != nil {
				c.err = c.fail(err)
				return &FrameError{Reason: DropTorn, Size: int(n), Err: errWSTorn}
			}
			return &FrameError{Reason: DropBinary, Size: int(n), Err: errWSBinary}
		}
		c.r, c.msgLen, c.msgLines = r, 0, false
	}
	if c.start > 0 {
		n := copy(c.buf, c.buf[c.start:c.end])
		c.searched -= c.start
		c.start, c.end = 0, n
	}
	if c.end == len(c.buf) {
		// A partial line fills the buffer: grow it, up to the max + "\r\n".
		nb := make([]byte, min(max(2*len(c.buf), wsInitialBuffer), c.max+2))
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
func (c *wsConn) fail(err error) error {
	c.broken = true
	if c.canceled.Load() {
		return c.cause
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Code == websocket.CloseAbnormalClosure {
			// gorilla's name for a socket that ended without a close frame
			// (1006 is never sent on the wire).
			return fmt.Errorf("firehose: ws: connection ended without a close frame: %w", io.ErrUnexpectedEOF)
		}
		return &wsCloseError{ce: ce}
	}
	return fmt.Errorf("firehose: ws: read: %w", err)
}

func (c *wsConn) Close() error {
	c.stopAfter()
	close(c.stop)
	c.goodbye()
	if !c.broken {
		// Wait briefly for the server's close frame, discarding what is in flight.
		c.ws.SetReadDeadline(time.Now().Add(c.closeWait))
		for {
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
	c.ws.NetConn().Close()
	<-c.pingDone
	return nil
}

// wsCloseError is a close frame received from the server. Cisco documents no
// close codes, so none is fatal: 1013 (try again later) waits like a 429,
// 1000 and 1001 count as a clean end, every other code as a dropped
// connection.
type wsCloseError struct{ ce *websocket.CloseError }

func (e *wsCloseError) Error() string {
	s := "firehose: ws: server closed the connection: close " + strconv.Itoa(e.ce.Code)
	if name := closeCodeName(e.ce.Code); name != "" {
		s += " (" + name + ")"
	}
	if e.ce.Text != "" {
		s += ": " + e.ce.Text
	}
	return s
}

func (e *wsCloseError) Unwrap() []error {
	switch e.ce.Code {
	case websocket.CloseTryAgainLater:
		return []error{e.ce, ErrTryLater}
	case websocket.CloseNormalClosure, websocket.CloseGoingAway:
		return []error{e.ce, io.EOF}
	}
	return []error{e.ce}
}

func closeCodeName(code int) string {
	switch code {
	case websocket.CloseNormalClosure:
		return "normal closure"
	case websocket.CloseGoingAway:
		return "going away"
	case websocket.CloseProtocolError:
		return "protocol error"
	case websocket.CloseUnsupportedData:
		return "unsupported data"
	case websocket.CloseNoStatusReceived:
		return "no status"
	case websocket.CloseInvalidFramePayloadData:
		return "invalid payload data"
	case websocket.ClosePolicyViolation:
		return "policy violation"
	case websocket.CloseMessageTooBig:
		return "message too big"
	case websocket.CloseMandatoryExtension:
		return "mandatory extension"
	case websocket.CloseInternalServerErr:
		return "internal server error"
	case websocket.CloseServiceRestart:
		return "service restart"
	case websocket.CloseTryAgainLater:
		return "try again later"
	}
	return ""
}
