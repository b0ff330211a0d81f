package firehose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/firehose-go/firehose/wsclient"
)

// The WebSocket channel: the same path, parameters and handshake statuses as
// the HTTP channel, the key in the handshake's X-API-Key header, one JSON
// event per text message (a trailing "\n" tolerated, several lines in one
// message read as several events).
//
// The socket is wsclient's (the dial guard, the TLS clone pinned to
// http/1.1, NextReader into a reused buffer split into lines, oversized lines
// dropped in bounded memory, pings, the close handshake); this file holds
// what is Cisco's: the request, the classification of refusals and close
// frames, and the frames. Pongs never feed the idle clock (no OnPong): only
// data messages do.
//
// Compression (WithCompression) is permessage-deflate without context
// takeover, negotiated at the handshake. It is a bandwidth-for-CPU trade:
// measured on a 2-core machine with 1.3 KB DEVICE_LOCATION_UPDATE events
// (BenchmarkWSCompression), it cuts the bytes on the wire by about 45%
// (1438 to 785 per event) and costs about 25 µs of CPU per event to
// inflate, some 12 times the whole uncompressed pipeline (about 2 µs). Off by
// default; worth it only where bandwidth, not CPU, is the limit.

const wsMaxCloseWait = time.Second

var (
	errWSBinary = errors.New("ws: binary message")
	errWSEmpty  = errors.New("ws: empty message")
	errWSTorn   = errors.New("ws: connection lost inside a message")
	errWSLong   = errors.New("ws: line larger than the max event size")
)

type wsConnector struct {
	cfg  *config
	base *url.URL         // the endpoint as ws:// or wss://
	opts wsclient.Options // a template: each attempt copies it with its own header
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
	hdr := http.Header{}
	hdr.Set("X-API-Key", string(cfg.key))
	hdr.Set("User-Agent", userAgent)
	w := &wsConnector{
		cfg:  cfg,
		base: &base,
		opts: wsclient.Options{
			Header:           hdr,
			TLSConfig:        cfg.tlsConfig, // cloned by Dial, offering http/1.1 only
			Dial:             cfg.dial,
			Proxy:            proxyFunc(), // read when the connector is made, as for HTTP
			HandshakeTimeout: defaultHandshakeDeadline,
			Compression:      cfg.wsCompression,
			Split:            wsclient.Lines,
			MaxUnit:          cfg.maxEvent,
			// Oversized lines are dropped in bounded memory, whatever the
			// message's size; past a read limit the connection would die and
			// a replay would bring the same message back forever, so there
			// is none.
			ReadLimit: -1,
			PingEvery: max(cfg.idle/3, time.Millisecond),
			CloseWait: max(min(wsMaxCloseWait, cfg.idle/4), time.Millisecond),
			// After an idle timeout the peer is presumed gone: no close
			// handshake. Close and the caller's ctx say goodbye.
			Abrupt: func(cause error) bool { return errors.Is(cause, ErrIdleTimeout) },
		},
	}
	return w, nil
}

func (w *wsConnector) Close() error { return nil } // nothing pooled: each conn owns its socket

func (w *wsConnector) Connect(ctx context.Context, req ConnectRequest) (Conn, error) {
	ws, resp, err := wsclient.Dial(ctx, requestURL(w.base, req, w.cfg).String(), w.opts)
	if err != nil {
		var he *wsclient.HandshakeError
		if errors.As(err, &he) && resp != nil {
			return nil, statusFromResponse("ws", resp, w.cfg.now())
		}
		return nil, classifyDialError(fmt.Errorf("ws: %w", err))
	}
	return &wsConn{ws: ws, done: ctx.Done()}, nil
}

// wsConn is one WebSocket connection: wsclient's lines as Cisco frames.
type wsConn struct {
	ws   *wsclient.Conn
	done <-chan struct{} // Connect's ctx: once it ends, Next's error is its cause
}

func (c *wsConn) ServerTime() time.Time { return c.ws.ServerTime() }

// Next scans the next line. wsclient drops a line longer than the max as it
// arrives while the message's other lines still get through.
func (c *wsConn) Next(f *Frame) error {
	line, err := c.ws.Next()
	if err == nil {
		return scanJSON(f, line)
	}
	return c.word(err)
}

// word turns wsclient's errors into the engine's: a dropped unit is a
// *FrameError, a close frame a *wsCloseError, the rest the connection's end.
func (c *wsConn) word(err error) error {
	var ue *wsclient.UnitError
	var ce *wsclient.CloseError
	switch {
	case errors.As(err, &ue):
		fe := &FrameError{Size: ue.Size}
		switch ue.Kind {
		case wsclient.Oversized:
			fe.Reason, fe.Err = DropOversized, errWSLong
		case wsclient.Torn:
			fe.Reason, fe.Err = DropTorn, errWSTorn
		case wsclient.Binary:
			fe.Reason, fe.Err = DropBinary, errWSBinary
		default:
			fe.Reason, fe.Err = DropEmpty, errWSEmpty
		}
		return fe
	case errors.As(err, &ce):
		return &wsCloseError{ce: ce}
	}
	select {
	case <-c.done:
		return err // the ctx's cause, as the seam asks
	default:
	}
	return fmt.Errorf("firehose: ws: %w", err)
}

func (c *wsConn) Close() error { return c.ws.Close() }

// wsCloseError is a close frame received from the server. Cisco documents no
// close codes, so none is fatal: 1013 (try again later) waits like a 429,
// 1000 and 1001 count as a clean end, every other code as a dropped
// connection.
type wsCloseError struct{ ce *wsclient.CloseError }

func (e *wsCloseError) Error() string {
	s := "firehose: ws: server closed the connection: close " + strconv.Itoa(e.ce.Code)
	if name := wsclient.CloseCodeName(e.ce.Code); name != "" {
		s += " (" + name + ")"
	}
	if e.ce.Text != "" {
		s += ": " + e.ce.Text
	}
	return s
}

func (e *wsCloseError) Unwrap() []error {
	switch e.ce.Code {
	case 1013: // try again later
		return []error{e.ce, ErrTryLater}
	case 1000, 1001: // normal closure, going away
		return []error{e.ce, io.EOF}
	}
	return []error{e.ce}
}
