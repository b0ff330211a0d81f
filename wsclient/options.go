package wsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Defaults applied by Dial to the zero fields of Options.
const (
	// DefaultHandshakeTimeout bounds the dial, the TLS handshake and the
	// upgrade together when Options.HandshakeTimeout is 0.
	DefaultHandshakeTimeout = 30 * time.Second
	// DefaultMaxUnit is the largest unit Next returns when Options.MaxUnit
	// is 0.
	DefaultMaxUnit = 1 << 20
	// DefaultCloseWait bounds the close handshake when Options.CloseWait is 0.
	DefaultCloseWait = time.Second
	// DefaultWriteTimeout is WriteText's deadline when Options.WriteTimeout
	// is 0.
	DefaultWriteTimeout = 10 * time.Second
)

const (
	initialBuffer = 16 << 10  // first size of a conn's unit buffer
	keepBuffer    = 256 << 10 // a larger buffer is let go after its message
	readBuffer    = 32 << 10  // gorilla's bufio.Reader over the socket
	writeBuffer   = 4 << 10   // subscriptions and heartbeats: one frame each
)

// Split says how Next cuts messages into units.
type Split uint8

const (
	// Messages: each text message is one unit, newlines included, byte for
	// byte. An empty message is reported as a *UnitError (Empty).
	Messages Split = iota
	// Lines: each text message holds one or more lines separated by "\n"
	// (the "\n" after the last one is optional, one "\r" before a "\n" is
	// trimmed); each non-blank line is one unit and blank lines are
	// skipped. A message without any non-blank line is reported as a
	// *UnitError (Empty). This is how Cisco Spaces frames its events.
	Lines
)

func (s Split) String() string {
	switch s {
	case Messages:
		return "messages"
	case Lines:
		return "lines"
	}
	return "split?"
}

// Options configure one connection. The zero value is usable: a plain
// net.Dialer, the environment's proxy, no compression, units of up to
// DefaultMaxUnit bytes, whole messages as units, no pings. Dial copies what
// it keeps; the caller may reuse Options afterwards.
type Options struct {
	// Header is sent with the upgrade request (an API key, a bearer token,
	// a User-Agent). The WebSocket headers themselves (Upgrade, Connection,
	// Sec-WebSocket-*) are Dial's and are refused here.
	Header http.Header

	// TLSConfig is used for wss:// URLs. Dial clones it and offers only
	// "http/1.1" by ALPN, whatever NextProtos says: a config shared with
	// net/http offers "h2", which would break the upgrade. nil means the
	// zero tls.Config (system roots).
	TLSConfig *tls.Config

	// Dial opens the TCP connection (to the proxy when there is one). nil
	// means a net.Dialer with TCP keep-alives.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy picks the proxy for the upgrade request, as
	// http.Transport.Proxy does (for wss:// the request's scheme is
	// https). nil means the environment (HTTPS_PROXY, HTTP_PROXY,
	// NO_PROXY), read afresh by every Dial. To use no proxy, give a func
	// that returns nil, nil.
	Proxy func(*http.Request) (*url.URL, error)

	// HandshakeTimeout bounds the dial, the TLS handshake and the upgrade
	// together. 0 means DefaultHandshakeTimeout; negative means no bound
	// but Dial's ctx.
	HandshakeTimeout time.Duration

	// Compression offers permessage-deflate (without context takeover).
	// Only received messages are inflated: WriteText never compresses.
	Compression bool

	// Split says what a unit is: a whole message (Messages, the default)
	// or a line of one (Lines).
	Split Split

	// MaxUnit is the largest unit Next returns. A longer one is dropped as
	// it arrives, in bounded memory, and reported as a *UnitError
	// (Oversized); the connection and the units around it go on. 0 means
	// DefaultMaxUnit.
	MaxUnit int

	// ReadLimit is the hard cap on one message: past it the connection
	// ends (close 1009, ErrReadLimit). It protects against a runaway
	// peer only; oversized units are dropped long before. 0 means
	// 4*MaxUnit + 1 MiB; negative means no cap.
	ReadLimit int64

	// Binary makes Next read binary messages like text ones. When false a
	// binary message is drained and reported as a *UnitError (Binary).
	Binary bool

	// PingEvery is the interval of the pings the Conn sends, which keep
	// middleboxes from timing the socket out. 0 means no pings.
	PingEvery time.Duration

	// PongWait is how long a ping may go unanswered while nothing at all
	// arrives on the socket: past it the socket is presumed half-open,
	// closed, and Next returns ErrPongTimeout. A pong that waits unread
	// because the caller is not calling Next does not count against it.
	// 0 means pongs are not awaited; it needs PingEvery.
	PongWait time.Duration

	// OnPong is called on every pong received, from the goroutine calling
	// Next (a liveness callback, such as ConnectRequest.Alive). It must not
	// block or call the Conn's methods.
	OnPong func()

	// CloseWait bounds the close handshake: how long Close, or a ctx that
	// ends, waits for the server's close frame after sending ours. 0 means
	// DefaultCloseWait.
	CloseWait time.Duration

	// Abrupt decides, when the Conn's ctx ends, whether to skip the close
	// handshake: if it returns true for context.Cause(ctx) (an idle
	// timeout: the peer is presumed gone), a blocked Next returns at once.
	// nil means never.
	Abrupt func(cause error) bool

	// NoCoalesce turns read coalescing off. On Linux, while frames arrive
	// densely (faster than 50,000 reads a second), the Conn lets bytes queue
	// in the kernel (SO_RCVLOWAT, each wait bounded by 200 µs, which Go's
	// netpoller may stretch to about 1 ms) so that one wake-up reads many
	// frames; the first wait that runs out of time turns it off until the
	// traffic is dense again, so a lone frame is not held back by more than
	// that bound and an idle connection sets no timer. Elsewhere reads are
	// never coalesced. Turn it off when every frame of a fast burst must
	// arrive within tens of microseconds, at the price of a wake-up per
	// frame.
	NoCoalesce bool

	// WriteTimeout is WriteText's deadline. 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// withDefaults validates o and returns a copy with the zero fields set.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.MaxUnit < 0:
		return o, errors.New("wsclient: negative MaxUnit")
	case o.PingEvery < 0 || o.PongWait < 0 || o.CloseWait < 0 || o.WriteTimeout < 0:
		return o, errors.New("wsclient: negative duration in Options")
	case o.PongWait > 0 && o.PingEvery == 0:
		return o, errors.New("wsclient: PongWait needs PingEvery")
	case o.Split > Lines:
		return o, errors.New("wsclient: unknown Split")
	}
	if o.MaxUnit == 0 {
		o.MaxUnit = DefaultMaxUnit
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = 4*int64(o.MaxUnit) + 1<<20
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.CloseWait == 0 {
		o.CloseWait = DefaultCloseWait
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	o.Header = o.Header.Clone()
	return o, nil
}
