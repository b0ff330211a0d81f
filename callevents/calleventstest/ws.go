package calleventstest

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The event stream: GET EventsPath with a WebSocket upgrade and the token in
// "Authorization: Bearer <JWT>" (preferred when both are sent) or "?token=<JWT>".
//
//	401 {"message":"missing token"}      neither was sent
//	401 {"message":"invalid token"}      a bad signature or claim, or a token this server does not
//	                                     know (RevokeTokens)
//	401 {"message":"token expired"}      exp has passed
//	400 {"message":"websocket upgrade required"}
//
// All refusals come before the upgrade. Once open, the server sends one event per text message and
// reads only control frames: it answers pings with pongs (unless half-open) and a close frame with a
// close frame. Nothing the client sends means anything.

const (
	controlWait = time.Second // deadline of a control frame the server writes
	closeWait   = time.Second // how long a closing socket waits for the client's close frame
	writeWait   = 10 * time.Second
)

// endAction says how a socket ends: with a close frame of code (code > 0) or cut (code ≤ 0).
type endAction struct {
	how    string
	code   int
	reason string
}

// socket is one open WebSocket. Its handler goroutine writes; a reader goroutine handles control
// frames.
type socket struct {
	s        *Server
	ws       *websocket.Conn
	nc       net.Conn
	rec      *connRecord
	g        *grant
	out      chan []byte
	halfOpen atomic.Bool

	stopOnce sync.Once
	stopped  chan struct{}
	end      endAction // set once, before stopped is closed
}

// stop asks the socket to end; the first call wins. Safe from any goroutine, with or without s.mu.
func (sk *socket) stop(a endAction) {
	sk.stopOnce.Do(func() {
		sk.end = a
		close(sk.stopped)
	})
}

// send queues a message without blocking; a full queue ends the socket.
func (sk *socket) send(msg []byte) {
	if sk.halfOpen.Load() {
		return
	}
	select {
	case sk.out <- msg:
	default:
		sk.stop(endAction{how: EndSlow})
	}
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	rec := &connRecord{Connection{Time: time.Now()}}
	refuse := func(status int, msg string) {
		s.mu.Lock()
		rec.Status, rec.Message = status, msg
		s.conns = append(s.conns, rec)
		s.mu.Unlock()
		writeError(w, status, msg)
	}
	tok := ""
	if h := r.Header.Get("Authorization"); h != "" {
		rec.TokenIn = "header"
		if scheme, t, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimSpace(t)
		}
	} else if t := r.URL.Query().Get("token"); t != "" {
		rec.TokenIn, tok = "query", t
	}

	s.mu.Lock()
	failStatus, fail := s.connFail.take()
	s.mu.Unlock()
	switch {
	case fail:
		refuse(failStatus, http.StatusText(failStatus))
		return
	case !websocket.IsWebSocketUpgrade(r):
		refuse(http.StatusBadRequest, "websocket upgrade required")
		return
	case tok == "":
		refuse(http.StatusUnauthorized, "missing token")
		return
	}
	exp, err := verifyToken(s.cfg.key, tok, time.Now())
	rec.Expiry = exp
	if err != nil {
		refuse(http.StatusUnauthorized, err.Error())
		return
	}
	s.mu.Lock()
	g := s.grants[tok]
	s.mu.Unlock()
	if g == nil {
		refuse(http.StatusUnauthorized, errTokenInvalid.Error())
		return
	}
	rec.Account, rec.Accounts, rec.Events = g.acct.ID, g.accounts, g.events

	// Register (and queue the resend) under one lock before the upgrade, so that every event
	// published once the client holds its 101 reaches the socket, and none twice.
	sk := &socket{
		s: s, rec: rec, g: g,
		out:     make(chan []byte, s.cfg.queue),
		stopped: make(chan struct{}),
	}
	s.mu.Lock()
	rec.Status = http.StatusSwitchingProtocols
	s.conns = append(s.conns, rec)
	if s.closed {
		sk.stop(endAction{how: EndServerClosed})
	}
	s.sockets[sk] = struct{}{}
	s.notify()
	if n := s.cfg.resend; n > 0 {
		var backlog [][]byte
		for i := len(s.events) - 1; i >= 0 && len(backlog) < n; i-- {
			if s.matches(g, s.events[i].Account, s.events[i].Name) {
				backlog = append(backlog, s.events[i].Message)
			}
		}
		for i := len(backlog) - 1; i >= 0; i-- {
			sk.send(backlog[i])
		}
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sockets, sk)
		s.notify()
		if rec.Status == http.StatusSwitchingProtocols {
			rec.Ended, rec.End = time.Now(), sk.end.how
		}
		s.mu.Unlock()
	}()

	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      func(*http.Request) bool { return true },
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has answered with an HTTP error
		sk.stop(endAction{how: EndClient})
		s.mu.Lock()
		rec.Status, rec.Message = http.StatusBadRequest, err.Error()
		s.mu.Unlock()
		return
	}
	sk.ws, sk.nc = ws, ws.NetConn()
	sk.serve()
}

// serve runs the socket until it stops, then closes it and waits for its reader.
func (sk *socket) serve() {
	s := sk.s
	ws := sk.ws
	ws.SetReadLimit(64 << 10) // a client sends control frames only
	ws.SetPingHandler(func(data string) error {
		s.mu.Lock()
		sk.rec.Pings++
		s.mu.Unlock()
		if sk.halfOpen.Load() {
			return nil
		}
		if err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(controlWait)); err == nil {
			s.mu.Lock()
			sk.rec.Pongs++
			s.mu.Unlock()
		}
		return nil
	})
	ws.SetCloseHandler(func(code int, _ string) error {
		if !sk.halfOpen.Load() {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(controlWait))
		}
		sk.stop(endAction{how: EndClient})
		return nil
	})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			_, r, err := ws.NextReader()
			if err != nil {
				sk.stop(endAction{how: EndClient})
				return
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				sk.stop(endAction{how: EndClient})
				return
			}
		}
	}()
	if code := s.cfg.expiryClose; code != 0 {
		a := endAction{how: EndExpired, code: code, reason: "token expired"}
		t := time.AfterFunc(time.Until(sk.g.exp), func() { sk.stop(a) })
		defer t.Stop()
	}

	sk.write()

	a := sk.end
	switch {
	case sk.halfOpen.Load() && a.how != EndDropped && a.how != EndServerClosed:
		// Half-open: the client must find out by itself, so nothing at all goes out, not even a
		// FIN, until it closes its end or the server closes.
		select {
		case <-readerDone:
		case <-s.ctx.Done():
		}
	case a.code > 0:
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(a.code, truncateReason(a.reason)), time.Now().Add(controlWait))
		t := time.NewTimer(closeWait)
		select {
		case <-readerDone:
		case <-t.C:
		case <-s.ctx.Done():
		}
		t.Stop()
	case a.how != EndClient:
		if tc, ok := sk.nc.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset, not a FIN: the abrupt drop of a dying server or middlebox
		}
	}
	sk.nc.Close()
	<-readerDone
}

// write sends queued messages until the socket stops.
func (sk *socket) write() {
	for {
		select {
		case <-sk.stopped:
			return
		case msg := <-sk.out:
			if sk.halfOpen.Load() {
				continue
			}
			sk.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := sk.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
				sk.stop(endAction{how: EndClient})
				return
			}
			sk.s.mu.Lock()
			sk.rec.Delivered++
			sk.s.mu.Unlock()
		}
	}
}

// truncateReason keeps a close reason within a control frame's 125 bytes.
func truncateReason(s string) string {
	const max = 123
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xc0 {
		s = s[:len(s)-1]
	}
	return s
}
