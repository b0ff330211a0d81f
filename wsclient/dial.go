package wsclient

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
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/net/http/httpproxy"
)

// Dial opens a WebSocket connection to rawURL (ws:// or wss://; http:// and
// https:// are taken as their WebSocket twins).
//
// ctx bounds the handshake (as does Options.HandshakeTimeout): when it ends,
// the socket is closed even while the request is being written or the
// response awaited, and Dial returns an error wrapping context.Cause(ctx).
// After Dial returns, ctx keeps governing the connection: when it ends,
// the Conn sends a close frame and a blocked Next returns
// context.Cause(ctx) once the server answers or Options.CloseWait has
// passed (at once if Options.Abrupt says so). The caller must still call
// Close. So give Dial the ctx of the connection's whole life, and bound the
// handshake alone with Options.HandshakeTimeout, not with a ctx deadline.
//
// A refused upgrade returns a *HandshakeError and the server's
// *http.Response, whose Body holds the response body's first bytes, so the
// caller can classify the status (401, 403, 429, 5xx) and read Retry-After.
// On success the response (status 101, Date header...) is returned too.
// Other errors (DNS, connect, TLS, proxy) are returned wrapped, their chain
// intact.
func Dial(ctx context.Context, rawURL string, opts Options) (*Conn, *http.Response, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("wsclient: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, nil, fmt.Errorf("wsclient: URL scheme %q: want ws or wss", u.Scheme)
	}

	// A clone of its own, offering only http/1.1: an "h2" ALPN (from a config
	// shared with net/http) would break the upgrade.
	tc := &tls.Config{}
	if o.TLSConfig != nil {
		tc = o.TLSConfig.Clone()
	}
	tc.NextProtos = []string{"http/1.1"}

	proxy := o.Proxy
	if proxy == nil {
		proxy = environmentProxy()
	}
	dial := o.Dial
	if dial == nil {
		dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	// gorilla watches ctx while dialing and during TLS, not while it writes
	// the request and reads the response: the guard closes the socket when
	// ctx ends, so a server that never answers cannot hold Dial.
	g := &dialGuard{dial: dial, track: o.PongWait > 0, coalesce: !o.NoCoalesce, done: make(chan struct{})}
	rbuf := readBuffer
	if g.coalesce {
		rbuf = coalesceReadBuffer
	}
	d := websocket.Dialer{
		NetDialContext:    g.dialContext,
		Proxy:             proxy,
		TLSClientConfig:   tc,
		HandshakeTimeout:  max(o.HandshakeTimeout, 0),
		ReadBufferSize:    rbuf,
		WriteBufferSize:   writeBuffer,
		EnableCompression: o.Compression,
	}
	stop := context.AfterFunc(ctx, g.abort)
	ws, resp, err := d.DialContext(ctx, u.String(), o.Header)
	if !stop() {
		<-g.done // the abort ran: its socket is closed
		if err == nil {
			ws.NetConn().Close()
		}
		return nil, nil, fmt.Errorf("wsclient: handshake: %w", context.Cause(ctx))
	}
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return nil, resp, &HandshakeError{Status: resp.StatusCode, Header: resp.Header, Body: body}
		}
		if ctx.Err() != nil {
			err = errors.Join(context.Cause(ctx), err)
		}
		return nil, resp, fmt.Errorf("wsclient: handshake: %w", err)
	}
	return newConn(ctx, ws, resp, g.tracked, o), resp, nil
}

// environmentProxy reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY now (net/http's
// ProxyFromEnvironment reads them once per process).
func environmentProxy() func(*http.Request) (*url.URL, error) {
	f := httpproxy.FromEnvironment().ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return f(r.URL) }
}

// dialGuard remembers the socket of one handshake so abort can close it.
type dialGuard struct {
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	track    bool          // wrap the socket to watch its reads (PongWait)
	coalesce bool          // wrap the socket to coalesce its reads (Linux)
	tracked  *trackedConn  // that wrapper
	done     chan struct{} // closed when abort has run
	mu       sync.Mutex
	c        net.Conn
	aborted  bool
}

func (g *dialGuard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := g.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if g.coalesce {
		c = coalesce(c)
	}
	if g.track {
		g.tracked = &trackedConn{Conn: c, base: time.Now()}
		c = g.tracked
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
	defer close(g.done)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.aborted = true
	if g.c != nil {
		g.c.Close()
	}
}
