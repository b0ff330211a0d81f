package callevents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/wsclient"
)

// conn is one connection as the engine sees it: one socket most of the time, two for a moment
// when the token is refreshed. Shortly before the token's exp a refresher goroutine logs in again
// (with the same filters) and opens a fresh socket; once it is open, Next reads from it and keeps
// reading the previous one for the drain grace, so events on their way over either are delivered —
// those both carry are dropped as duplicates by the engine — and then leaves it. A server that
// closes sockets at exp therefore never cuts the stream; if the refresh fails, the server's close
// (or a refused upgrade) ends the connection and the engine reconnects, logging in again.
type conn struct {
	src    *source
	ctx    context.Context
	cancel context.CancelCauseFunc
	alive  func()

	msgs chan sockMsg // from every socket's reader
	swap chan *socket // from the refresher: a fresh socket, open

	cur      *socket
	draining map[*socket]time.Time // previous sockets, read until then
	drainT   *time.Timer
	nextSeq  int

	pending [][]byte // the values of the current message not yet returned
	tailErr error    // what follows them: a malformed tail
	refresh chan struct{}
}

// errConnClosed is the cause of a connection's context once Close was called.
var errConnClosed = errors.New("callevents: connection closed")

// newConn runs the connection whose life is ctx (cancel ends it) on its first socket, wc.
func newConn(ctx context.Context, cancel context.CancelCauseFunc, s *source, wc *wsclient.Conn, tok *token, alive func()) *conn {
	c := &conn{
		src:      s,
		ctx:      ctx,
		cancel:   cancel,
		alive:    alive,
		msgs:     make(chan sockMsg),
		swap:     make(chan *socket),
		draining: map[*socket]time.Time{},
		refresh:  make(chan struct{}),
	}
	c.cur = c.start(wc, tok)
	go c.refresher(tok)
	return c
}

func (c *conn) start(wc *wsclient.Conn, tok *token) *socket {
	c.nextSeq++
	return startSocket(wc, tok, c.nextSeq, c.msgs)
}

// Next returns the next frame: an event, or a control frame for an event outside the configured
// event names (dropped).
func (c *conn) Next(f *firehose.Frame) error {
	for {
		if len(c.pending) > 0 {
			v := c.pending[0]
			c.pending = c.pending[1:]
			return c.frame(f, v)
		}
		if c.tailErr != nil {
			err := c.tailErr
			c.tailErr = nil
			return &firehose.FrameError{Reason: firehose.DropMalformed, Err: err}
		}
		var drain <-chan time.Time
		if c.drainT != nil {
			drain = c.drainT.C
		}
		select {
		case <-c.ctx.Done():
			return context.Cause(c.ctx)
		case ns := <-c.swap:
			c.promote(ns)
		case <-drain:
			c.drainT = nil
			c.leaveDrained(time.Now())
		case m := <-c.msgs:
			if err := c.message(m); err != nil {
				return err
			}
		}
	}
}

// message takes one socket's message or end. It returns an error to hand to the engine.
func (c *conn) message(m sockMsg) error {
	if m.err != nil {
		if m.sock != c.cur {
			c.src.log.Debug("callevents: a previous socket ended while draining", "socket", m.sock.seq, "err", c.clean(m.err))
			delete(c.draining, m.sock)
			m.sock.close()
			return nil
		}
		return c.ended(m.err)
	}
	if m.dropped != nil {
		reason := map[wsclient.UnitKind]firehose.DropReason{
			wsclient.Oversized: firehose.DropOversized,
			wsclient.Binary:    firehose.DropBinary,
			wsclient.Empty:     firehose.DropEmpty,
			wsclient.Torn:      firehose.DropTorn,
		}[m.dropped.Kind]
		return &firehose.FrameError{Reason: reason, Size: m.dropped.Size, Err: m.dropped}
	}
	if len(bytes.TrimSpace(m.data)) == 0 {
		return &firehose.FrameError{Reason: firehose.DropEmpty, Size: len(m.data)}
	}
	c.pending, c.tailErr = Split(m.data)
	return nil
}

// frame fills f from one JSON value.
func (c *conn) frame(f *firehose.Frame, v []byte) error {
	n, err := Normalize(v)
	if err != nil {
		return &firehose.FrameError{Reason: firehose.DropMalformed, Size: len(v), Err: err}
	}
	f.Kind = firehose.FrameEvent
	f.ID = []byte(n.ID)
	f.Timestamp = n.Timestamp
	f.Type = []byte(n.Type)
	f.Raw = n.Object
	f.Payload = n.Object
	if ev := c.src.set.events; ev != nil && n.Type != "" && !ev[strings.ToUpper(n.Type)] {
		c.src.log.Debug("callevents: dropped an event outside the configured names", "type", n.Type, "id", n.ID)
		f.Kind = firehose.FrameControl
	}
	return nil
}

// ended turns the end of the current socket into the connection's error. A close frame whose
// code or reason speaks of authorisation or expiry drops the token: the next Connect logs in.
func (c *conn) ended(err error) error {
	if cerr := context.Cause(c.ctx); cerr != nil {
		return cerr
	}
	var ce *wsclient.CloseError
	if errors.As(err, &ce) {
		if authClose(ce) {
			c.src.dropToken(c.cur.tok)
		}
		return &closeError{code: ce.Code, reason: c.clean(errors.New(ce.Text)).Error()}
	}
	if errors.Is(err, wsclient.ErrPongTimeout) {
		return fmt.Errorf("callevents: a ping went unanswered for %v while nothing arrived: the socket is left: %w", c.src.wsOpts.PongWait, err)
	}
	return c.clean(fmt.Errorf("callevents: socket: %w", err))
}

// clean takes the secrets out of an error's text.
func (c *conn) clean(err error) error {
	secrets := []string{string(c.src.set.creds.Password)}
	if c.cur != nil {
		secrets = append(secrets, string(c.cur.tok.value))
	}
	return scrubError(err, secrets...)
}

// authClose reports whether a close frame looks like the end of the token's validity: 1008 (policy
// violation), 3000/3003 (unauthorized, forbidden), a private 4000–4999 code, or a reason that says
// token, expired or auth.
func authClose(ce *wsclient.CloseError) bool {
	switch {
	case ce.Code == 1008, ce.Code == 3000, ce.Code == 3003, ce.Code >= 4000 && ce.Code <= 4999:
		return true
	}
	r := strings.ToLower(ce.Text)
	return strings.Contains(r, "token") || strings.Contains(r, "expire") || strings.Contains(r, "auth")
}

// closeError is a close frame from the server. 1000 and 1001 are a clean end (io.EOF); 1013 asks
// for patience (firehose.ErrTryLater); every other code is retried with backoff.
type closeError struct {
	code   int
	reason string
}

func (e *closeError) Error() string {
	s := fmt.Sprintf("callevents: the server closed the socket (%d)", e.code)
	if e.reason != "" {
		s += ": " + e.reason
	}
	return s
}

func (e *closeError) Unwrap() []error {
	switch e.code {
	case 1000, 1001: // normal closure, going away
		return []error{io.EOF}
	case 1013: // try again later
		return []error{firehose.ErrTryLater}
	}
	return nil
}

// promote makes ns the current socket; the previous one drains.
func (c *conn) promote(ns *socket) {
	old := c.cur
	c.cur = ns
	c.src.log.Info("callevents: moved to a fresh socket before the token's expiry", "socket", ns.seq, "exp", ns.tok.claims.Expiry)
	if old == nil {
		return
	}
	until := time.Now().Add(c.src.set.drainGrace)
	c.draining[old] = until
	if c.drainT == nil {
		c.drainT = time.NewTimer(c.src.set.drainGrace)
	}
}

// leaveDrained closes the previous sockets whose grace has passed and re-arms the timer for the
// others.
func (c *conn) leaveDrained(now time.Time) {
	var next time.Time
	for sk, until := range c.draining {
		if !now.Before(until) {
			delete(c.draining, sk)
			sk.close()
			continue
		}
		if next.IsZero() || until.Before(next) {
			next = until
		}
	}
	if !next.IsZero() {
		c.drainT = time.NewTimer(next.Sub(now))
	}
}

// refresher replaces the token shortly before its exp, and with it the socket, for as long as the
// connection lives. It gives up on a token (leaving the rest to the server's close and Connect)
// when a refusal says retrying cannot help or the token has expired.
func (c *conn) refresher(tok *token) {
	defer close(c.refresh)
	for {
		at := c.src.refreshAt(tok)
		if at.IsZero() || !time.Now().Before(tok.claims.Expiry) {
			return
		}
		if !c.sleep(time.Until(at)) {
			return
		}
		ns, nt := c.fresh(tok)
		if ns == nil {
			return
		}
		select {
		case c.swap <- ns:
			tok = nt
		case <-c.ctx.Done():
			ns.close()
			return
		}
	}
}

// fresh logs in and opens a socket, retrying transient failures until old expires.
func (c *conn) fresh(old *token) (*socket, *token) {
	wait := 50 * time.Millisecond
	for {
		nt, err := c.src.token(c.ctx, true)
		if err == nil {
			var wc *wsclient.Conn
			if wc, err = c.src.dial(c.ctx, nt, c.alive); err == nil {
				return c.start(wc, nt), nt
			}
		}
		if c.ctx.Err() != nil {
			return nil, nil
		}
		if errors.Is(err, firehose.ErrFatal) {
			c.src.log.Warn("callevents: refreshing the token was refused; the socket stays until the server ends it", "err", err)
			return nil, nil
		}
		left := time.Until(old.claims.Expiry)
		if left <= 0 {
			c.src.log.Warn("callevents: the token could not be refreshed before its expiry", "err", err)
			return nil, nil
		}
		c.src.log.Warn("callevents: refreshing the token failed; retrying", "err", err, "retry_in", min(wait, left))
		if !c.sleep(min(wait, left)) {
			return nil, nil
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// sleep waits d unless the connection ends; false if it did.
func (c *conn) sleep(d time.Duration) bool {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// Close ends the connection: the refresher is stopped, every socket is left with a close frame,
// and every goroutine is waited for.
func (c *conn) Close() error {
	c.cancel(errConnClosed)
	<-c.refresh
	if c.drainT != nil {
		c.drainT.Stop()
	}
	for sk := range c.draining {
		sk.close()
	}
	// A socket the refresher opened but Next never took is closed by the refresher itself.
	c.cur.close()
	return nil
}
