package octave

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/wsclient"
)

// The socket of one connection, on wsclient (a bounded reader that cannot hang, pings, a
// serialised writer). On top: one reader goroutine that hands copies of the messages to Next
// through a channel (so Next can also wait for timers and stream-set changes), and one writer
// goroutine, the only sender of data messages: requests, and a heartbeat every interval. Both
// stop in close.

const (
	handshakeTimeout = 15 * time.Second
	writeTimeout     = 10 * time.Second
	closeWait        = 250 * time.Millisecond // the close handshake's bound: reconnects must not wait on it
	inQueue          = 64                     // messages read ahead of Next
	outQueue         = 64                     // requests waiting for the writer
)

// inMsg is one message read, a message dropped (unit), or the end of the socket (err).
type inMsg struct {
	data []byte
	unit *wsclient.UnitError
	err  error
}

type socket struct {
	ws   *wsclient.Conn
	in   chan inMsg
	out  chan []byte
	stop chan struct{} // closed by close
	dead chan struct{} // closed when the writer gives up
	wg   sync.WaitGroup
	once sync.Once
}

// dialer makes sockets with the engine's network and TLS settings.
type dialer struct {
	tls  *tls.Config
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error), tc *tls.Config) *dialer {
	return &dialer{tls: tc, dial: dial} // wsclient clones the TLS config and offers only http/1.1
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

// open dials u; ctx bounds the handshake and, after it, the socket's life (its end makes a
// blocked read return context.Cause(ctx), at once for an idle timeout). The socket starts its
// reader and its writer: requests from out, then a heartbeat and a WebSocket ping every interval
// (none when interval <= 0); pongs call alive.
func (d *dialer) open(ctx context.Context, u string, maxMsg int, interval time.Duration, alive func()) (*socket, error) {
	o := wsclient.Options{
		TLSConfig:        d.tls,
		Dial:             d.dial,
		HandshakeTimeout: handshakeTimeout,
		Split:            wsclient.Messages,
		MaxUnit:          maxMsg,
		OnPong:           alive,
		CloseWait:        closeWait,
		Abrupt:           func(cause error) bool { return errors.Is(cause, firehose.ErrIdleTimeout) },
		WriteTimeout:     writeTimeout,
	}
	if interval > 0 {
		// Pongs are liveness (Octave sends nothing on a quiet stream), but not awaited: a server
		// that does not answer pings is caught by the engine's idle clock and the probes.
		o.PingEvery = interval
	}
	ws, resp, err := wsclient.Dial(ctx, u, o)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		var he *wsclient.HandshakeError
		if errors.As(err, &he) {
			var env struct{ Head head }
			parsed := json.Unmarshal(he.Body, &env) == nil
			return nil, &refusedError{status: he.Status, message: env.Head.message(he.Body, parsed)}
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
	s.wg.Add(2)
	go s.read()
	go s.write(interval)
	return s, nil
}

func (s *socket) read() {
	defer s.wg.Done()
	for {
		b, err := s.ws.Next()
		var ue *wsclient.UnitError
		switch {
		case errors.As(err, &ue):
			if !s.deliver(inMsg{unit: ue}) {
				return
			}
		case err != nil:
			s.deliver(inMsg{err: err})
			return
		default:
			// Next's bytes live until its next call: Next (the conn's) gets a copy.
			if !s.deliver(inMsg{data: append([]byte(nil), b...)}) {
				return
			}
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
			err = s.ws.WriteText(b)
		case <-tick:
			err = s.ws.WriteText(heartbeatMsg)
		}
		if err != nil {
			// A socket that cannot be written is finished: closing it ends the reader too,
			// and with it the connection.
			s.ws.Close()
			return
		}
	}
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

// close says goodbye (a close frame, briefly awaited), closes the connection and waits for both
// goroutines.
func (s *socket) close() {
	s.once.Do(func() {
		close(s.stop)
		s.ws.Close()
		s.wg.Wait()
	})
}

// closeReason describes how a socket ended, for errors.
func closeReason(err error) error {
	var ce *wsclient.CloseError
	if errors.As(err, &ce) {
		return fmt.Errorf("octave: socket closed by the server (code %d %s): %w", ce.Code, wsclient.CloseCodeName(ce.Code), err)
	}
	return fmt.Errorf("octave: socket: %w", err)
}
