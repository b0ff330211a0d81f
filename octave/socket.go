package octave

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The socket of one connection: gorilla/websocket with one reader goroutine (messages into a
// channel, bounded in size) and one writer goroutine (the only writer of data messages:
// requests, heartbeats; pings go out as control frames). Both stop in close.

const (
	handshakeTimeout = 15 * time.Second
	writeTimeout     = 10 * time.Second
	closeGrace       = 100 * time.Millisecond
	inQueue          = 64 // messages read ahead of Next
	outQueue         = 64 // requests waiting for the writer
)

// inMsg is one message read, or the end of the socket (err).
type inMsg struct {
	data      []byte
	oversized int // > 0: a message of at least this many bytes was dropped
	binary    bool
	err       error
}

type socket struct {
	ws   *websocket.Conn
	in   chan inMsg
	out  chan []byte
	stop chan struct{} // closed by close
	dead chan struct{} // closed when the writer gives up
	wg   sync.WaitGroup
	once sync.Once
}

// dialer makes sockets with the engine's network and TLS settings.
type dialer struct {
	ws   websocket.Dialer
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error), tc *tls.Config) *dialer {
	// A clone of its own, offering only http/1.1: an "h2" ALPN would break the upgrade.
	c := &tls.Config{}
	if tc != nil {
		c = tc.Clone()
	}
	c.NextProtos = []string{"http/1.1"}
	if dial == nil {
		d := &net.Dialer{Timeout: handshakeTimeout, KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	return &dialer{
		ws:   websocket.Dialer{Proxy: http.ProxyFromEnvironment, TLSClientConfig: c, HandshakeTimeout: handshakeTimeout},
		dial: dial,
	}
}

// refusedError is an upgrade the server refused (an expired or used session id): retried with a
// fresh session, never fatal.
type refusedError struct {
	status  int
	message string
}

func (e *refusedError) Error() string {
	s := fmt.Sprintf("octave: socket refused: status %d %s", e.status, http.StatusText(e.status))
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}

// open dials u. ctx bounds the whole handshake: gorilla watches it while dialing, not while
// it waits for the answer, so a guard closes the connection if ctx ends first.
//
// The socket starts its reader at once, and its writer: requests from out, then a heartbeat and
// a ping every interval (none when interval <= 0).
func (d *dialer) open(ctx context.Context, u string, maxMsg int, interval time.Duration, alive func()) (*socket, error) {
	var mu sync.Mutex
	var nc net.Conn
	stopGuard := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if nc != nil {
			nc.Close()
		}
	})
	wd := d.ws
	wd.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.dial(ctx, network, addr)
		if err == nil {
			mu.Lock()
			nc = c
			mu.Unlock()
		}
		return c, err
	}
	ws, resp, err := wd.DialContext(ctx, u, nil)
	if !stopGuard() && err == nil {
		ws.Close()
		return nil, context.Cause(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if resp != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			var env struct{ Head head }
			parsed := json.Unmarshal(b, &env) == nil
			return nil, &refusedError{status: resp.StatusCode, message: env.Head.message(b, parsed)}
		}
		return nil, fmt.Errorf("octave: dial: %w", err)
	}
	s := &socket{
		ws:   ws,
		in:   make(chan inMsg, inQueue),
		out:  make(chan []byte, outQueue),
		stop: make(chan struct{}),
		dead: make(chan struct{}),
	}
	// Pongs prove the socket: Octave sends nothing on a quiet stream, so they are its liveness.
	ws.SetPongHandler(func(string) error {
		if alive != nil {
			alive()
		}
		return nil
	})
	s.wg.Add(2)
	go s.read(maxMsg)
	go s.write(interval)
	return s, nil
}

func (s *socket) read(maxMsg int) {
	defer s.wg.Done()
	// The hard cap stays far above maxMsg: past SetReadLimit gorilla kills the connection, and
	// an oversized message should cost one frame, not the socket.
	s.ws.SetReadLimit(int64(maxMsg)*4 + 1<<20)
	for {
		typ, r, err := s.ws.NextReader()
		if err != nil {
			s.deliver(inMsg{err: err})
			return
		}
		b, err := io.ReadAll(io.LimitReader(r, int64(maxMsg)+1))
		if err != nil {
			s.deliver(inMsg{err: err})
			return
		}
		m := inMsg{data: b, binary: typ == websocket.BinaryMessage}
		if len(b) > maxMsg {
			n, err := io.Copy(io.Discard, r)
			if err != nil {
				s.deliver(inMsg{err: err})
				return
			}
			m = inMsg{oversized: len(b) + int(n)}
		}
		if !s.deliver(m) {
			return
		}
	}
}

func (s *socket) deliver(m inMsg) bool {
	select {
	case s.in <- m:
		return true
	case <-s.stop:
		return false
	}
}

func (s *socket) write(interval time.Duration) {
	defer s.wg.Done()
	defer close(s.dead)
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		var err error
		select {
		case <-s.stop:
			return
		case b := <-s.out:
			err = s.writeData(b)
		case <-tick:
			if err = s.writeData(heartbeatMsg); err == nil {
				err = s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout))
			}
		}
		if err != nil {
			s.ws.Close() // the reader then ends with an error, which ends the connection
			return
		}
	}
}

func (s *socket) writeData(b []byte) error {
	s.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return s.ws.WriteMessage(websocket.TextMessage, b)
}

// send queues a request for the writer; false if the socket is gone or ctx ended.
func (s *socket) send(ctx context.Context, b []byte) bool {
	select {
	case s.out <- b:
		return true
	case <-s.dead:
	case <-s.stop:
	case <-ctx.Done():
	}
	return false
}

// close says goodbye with a close frame (briefly), closes the connection and waits for both
// goroutines.
func (s *socket) close() {
	s.once.Do(func() {
		close(s.stop)
		s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(closeGrace))
		s.ws.Close()
		s.wg.Wait()
	})
}

// closeReason describes how a socket ended, for errors.
func closeReason(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Errorf("octave: socket closed by the server (code %d %q): %w", ce.Code, ce.Text, err)
	}
	return fmt.Errorf("octave: socket: %w", err)
}
