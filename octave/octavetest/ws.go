package octavetest

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// GET /session/{id}/ws. An unknown, expired or already used id is refused before the upgrade with
// WithRefuseStatus's status and an error envelope. On the socket the client sends text messages:
//
//	{"msgId":…,"object":"event","type":"subscribe","streamId":"s…"}   (or "path":"/co/…")
//	{"msgId":…,"object":"event","type":"unsubscribe","streamId":"s…"} (or "path")
//	{"type":"heartbeat"}                                               (no reply)
//
// Each request gets one reply echoing its msgId: Octave's ack, or head.ok false with a status
// (404 and NotFoundMessage for an unknown stream, 400 for a malformed request, a Reject's status).
// A subscription takes effect when its request is read, so with a delayed ack events can come
// first. Every event published on a subscribed stream is pushed as
// {"type":"message","resource":"<streamId>","value":<event>}, also for a subscription by path.
// Subscribing twice to a stream is one subscription.

const (
	wsReadLimit   = 64 << 10
	wsControlWait = time.Second
	wsCloseWait   = time.Second // how long a Close action waits for the client's close frame
)

type outMsg struct {
	data []byte
	push bool
}

// socket is one open WebSocket. Its handler goroutine writes (the only writer of data messages);
// a reader goroutine handles requests and pings.
type socket struct {
	s      *Server
	sess   *session
	ws     *websocket.Conn
	nc     net.Conn
	ctx    context.Context
	cancel context.CancelFunc
	delay  time.Duration

	subs map[string]bool // stream ids; guarded by s.mu

	mu      sync.Mutex
	out     []outMsg
	kicked  *Conn // a Kick to apply, guarded by mu
	wake    chan struct{}
	silent  atomic.Bool  // no more pushes or replies (Silence, Mute)
	noPong  atomic.Bool  // no more pongs (Silence)
	lastMsg atomic.Int64 // unix ns of the client's last data message

	pushes  int // originals written (writer only)
	replies int // replies written (writer only)
	acted   bool
}

func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request, id string) {
	now := time.Now()
	if !websocket.IsWebSocketUpgrade(r) {
		s.mu.Lock()
		s.dials = append(s.dials, Dial{SessionID: id, Status: http.StatusBadRequest, Reason: "not an upgrade", Time: now})
		s.mu.Unlock()
		writeEnvelope(w, http.StatusBadRequest, nil, "a WebSocket upgrade is required")
		return
	}
	s.mu.Lock()
	ss, why := s.claimLocked(id, now)
	d := Dial{SessionID: id, Status: http.StatusSwitchingProtocols, Reason: why, Time: now}
	if why != "" {
		d.Status = s.cfg.refuseStatus
	}
	s.dials = append(s.dials, d)
	s.mu.Unlock()
	if why != "" {
		msg := NotFoundMessage
		if d.Status != http.StatusNotFound {
			msg = "session " + why
		}
		writeEnvelope(w, d.Status, nil, msg)
		return
	}

	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      func(*http.Request) bool { return true },
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	so := &socket{s: s, sess: ss, ws: ws, nc: ws.NetConn(), subs: map[string]bool{}, wake: make(chan struct{}, 1)}
	so.ctx, so.cancel = context.WithCancel(s.ctx)
	defer so.cancel()
	so.delay = s.cfg.ackDelay
	if ss.conn.AckDelay > 0 {
		so.delay = ss.conn.AckDelay
	}
	so.lastMsg.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.sockets[so] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sockets, so)
		s.mu.Unlock()
	}()
	so.serve()
}

// enqueue queues a message for the writer.
func (so *socket) enqueue(m outMsg) {
	so.mu.Lock()
	so.out = append(so.out, m)
	so.mu.Unlock()
	so.poke()
}

func (so *socket) poke() {
	select {
	case so.wake <- struct{}{}:
	default:
	}
}

// kick asks the writer to apply an action now.
func (so *socket) kick(a Action, code int, reason string) {
	switch a {
	case None:
		return
	case Silence:
		so.noPong.Store(true) // at once, for the replies and pongs that follow
		so.silent.Store(true)
	case Mute:
		so.silent.Store(true)
	}
	so.mu.Lock()
	so.kicked = &Conn{Action: a, CloseCode: code, Reason: reason}
	so.mu.Unlock()
	so.poke()
}

// pushLocked pushes e to every socket subscribed to st; s.mu is held.
func (s *Server) pushLocked(st *stream, e *Event) {
	var frame []byte
	for so := range s.sockets {
		if so.subs[st.ID] {
			if frame == nil {
				frame = push(e)
			}
			so.enqueue(outMsg{data: frame, push: true})
		}
	}
}

func (so *socket) serve() {
	stop := context.AfterFunc(so.ctx, func() { so.nc.Close() })
	defer stop()
	readerDone := make(chan struct{})
	go so.read(readerDone)
	defer func() {
		so.cancel()
		so.nc.Close()
		<-readerDone
	}()

	var hb <-chan time.Time
	if d := so.s.cfg.heartbeatTimeout; d > 0 {
		t := time.NewTicker(max(d/8, time.Millisecond))
		defer t.Stop()
		hb = t.C
	}
	for {
		select {
		case <-so.ctx.Done():
			return
		case <-readerDone:
			return
		case <-hb:
			if time.Since(time.Unix(0, so.lastMsg.Load())) > so.s.cfg.heartbeatTimeout && !so.silent.Load() {
				so.closeWith(HeartbeatCloseCode, "heartbeat timeout", readerDone)
				return
			}
			continue
		case <-so.wake:
		}
		for {
			so.mu.Lock()
			var m outMsg
			ok := len(so.out) > 0
			if ok {
				m = so.out[0]
				so.out[0] = outMsg{}
				so.out = so.out[1:]
			}
			k := so.kicked
			so.kicked = nil
			so.mu.Unlock()
			if k != nil && so.act(*k, readerDone) {
				return
			}
			if !ok {
				break
			}
			if so.silent.Load() {
				continue
			}
			if !so.write(m) {
				return
			}
			c := so.sess.conn
			if !so.acted && c.Action != None && so.pushes >= c.After && (c.After > 0 || so.replies > 0) {
				so.acted = true
				if so.act(c, readerDone) {
					return
				}
			}
		}
	}
}

// write sends m (twice when DuplicateEvery says so) and counts it; false when the socket failed.
func (so *socket) write(m outMsg) bool {
	if err := so.ws.WriteMessage(websocket.TextMessage, m.data); err != nil {
		return false
	}
	if !m.push {
		so.replies++
		return true
	}
	so.pushes++
	n := 1
	if k := so.sess.conn.DuplicateEvery; k > 0 && so.pushes%k == 0 {
		if err := so.ws.WriteMessage(websocket.TextMessage, m.data); err != nil {
			return false
		}
		n++
	}
	so.s.mu.Lock()
	so.sess.info.Pushes += n
	so.s.mu.Unlock()
	return true
}

// act applies an action and reports whether the socket is done.
func (so *socket) act(c Conn, readerDone <-chan struct{}) bool {
	switch c.Action {
	case Drop:
		return true // serve's deferred close cuts the TCP connection
	case Close:
		code := c.CloseCode
		if code == 0 {
			code = websocket.CloseNormalClosure
		}
		so.closeWith(code, c.Reason, readerDone)
		return true
	case Silence:
		so.noPong.Store(true)
		so.silent.Store(true)
	case Mute:
		so.silent.Store(true)
	}
	return false
}

// closeWith sends a close frame and waits a little for the client's.
func (so *socket) closeWith(code int, reason string, readerDone <-chan struct{}) {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	so.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(wsControlWait))
	t := time.NewTimer(wsCloseWait)
	defer t.Stop()
	select {
	case <-readerDone:
	case <-t.C:
	case <-so.ctx.Done():
	}
}

// read handles the client's messages until the socket ends.
func (so *socket) read(done chan<- struct{}) {
	defer close(done)
	defer so.cancel()
	ws := so.ws
	ws.SetReadLimit(wsReadLimit)
	ws.SetPingHandler(func(data string) error {
		if !so.noPong.Load() {
			ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(wsControlWait))
		}
		return nil
	})
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		so.lastMsg.Store(time.Now().UnixNano())
		so.s.handle(so, data)
	}
}

// clientMsg is what a client may send.
type clientMsg struct {
	MsgID    json.RawMessage `json:"msgId"`
	Object   string          `json:"object"`
	Type     string          `json:"type"`
	StreamID string          `json:"streamId"`
	Path     string          `json:"path"`
}

// handle answers one client message.
func (s *Server) handle(so *socket, data []byte) {
	var m clientMsg
	err := json.Unmarshal(data, &m)
	s.mu.Lock()
	defer s.mu.Unlock()
	so.sess.info.Messages++
	if err == nil && m.Type == "heartbeat" {
		so.sess.info.Heartbeats++
		return
	}
	msgID := m.MsgID
	if len(msgID) == 0 {
		msgID = []byte("null")
	}
	rec := Request{SessionID: so.sess.info.ID, MsgID: unquote(m.MsgID), Type: m.Type, StreamID: m.StreamID, Path: m.Path, Time: time.Now()}
	status, errMsg := 0, ""
	var st *stream
	switch {
	case err != nil:
		status, errMsg = http.StatusBadRequest, "Malformed request: "+err.Error()
	case m.Type != "subscribe" && m.Type != "unsubscribe":
		status, errMsg = http.StatusBadRequest, "Unsupported request type"
	case len(m.MsgID) == 0:
		status, errMsg = http.StatusBadRequest, "msgId is required"
	case m.Object != "event":
		status, errMsg = http.StatusBadRequest, "Unsupported object"
	case m.StreamID == "" && m.Path == "":
		status, errMsg = http.StatusBadRequest, "streamId or path is required"
	default:
		if m.StreamID != "" {
			st = s.byID[m.StreamID]
		} else {
			st = s.byPath[m.Path]
		}
		if st == nil {
			status, errMsg = http.StatusNotFound, NotFoundMessage
		}
	}
	if st != nil && m.Type == "subscribe" {
		status, errMsg = s.rejectLocked(st)
	}
	if errMsg == "" {
		if m.Type == "subscribe" {
			so.subs[st.ID] = true
		} else {
			delete(so.subs, st.ID)
		}
	}
	rec.OK, rec.Status = errMsg == "", status
	if rec.OK {
		rec.Status = http.StatusOK
	}
	s.requests = append(s.requests, rec)
	frame := reply(msgID, status, errMsg)
	if so.delay <= 0 {
		so.enqueue(outMsg{data: frame})
		return
	}
	s.active.Add(1) // the socket's handler is active, so Close has not finished waiting
	go func() {
		defer s.active.Done()
		t := time.NewTimer(so.delay)
		defer t.Stop()
		select {
		case <-so.ctx.Done():
		case <-t.C:
			so.enqueue(outMsg{data: frame})
		}
	}()
}

// rejectLocked applies WithReject's rules to a subscribe of st.
func (s *Server) rejectLocked(st *stream) (int, string) {
	status, msg := 0, ""
	for i := range s.rejects {
		r := &s.rejects[i]
		if r.Stream != st.ID && r.Stream != st.Path {
			continue
		}
		r.seen++
		if msg != "" || r.seen <= r.After || (r.Times > 0 && r.seen > r.After+r.Times) {
			continue
		}
		status = r.Status
		if status == 0 {
			status = http.StatusNotFound
		}
		msg = "rejected by octavetest"
		if status == http.StatusNotFound {
			msg = NotFoundMessage
		}
	}
	return status, msg
}

// unquote returns a JSON string's value, or other JSON text as is.
func unquote(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
