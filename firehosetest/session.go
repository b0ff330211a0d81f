package firehosetest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// The transport-independent core. A transport handler (HTTP NDJSON here; WebSocket and gRPC can
// plug in the same way) does:
//
//	sess, rej := s.open(request{transport: ChannelWS, ...})
//	if rej != nil {
//		// answer rej.status (gRPC: its code), rej.retryAfter, rej.message
//		return
//	}
//	defer sess.close()
//	for {
//		f, err := sess.next(ctx)
//		switch {
//		case errors.Is(err, errCut), errors.Is(err, errServerClosed): // close the connection abruptly
//		case errors.Is(err, io.EOF): // end the stream cleanly
//		case err != nil: // ctx ended (the client went away): just return
//		}
//		// write f.line in the transport's framing; f.partial: write it as a torn frame (the cut
//		// follows); frameBinary: a WS binary message, skipped by the other transports
//		if !sess.pending() {
//			// flush
//		}
//	}
//
// Close cancels every session (next returns) and waits until each one is closed.

// request is a connection attempt as every transport sees it.
type request struct {
	transport string     // ChannelHTTP, ChannelWS or ChannelGRPC
	proto     string     // e.g. "HTTP/1.1", "HTTP/2.0"
	method    string     // "GET"; "" when the transport has no method (gRPC)
	path      string     // the URL path; a gRPC handler passes EventsPath for GetEvents
	key       string     // the API key sent ("" when missing)
	query     url.Values // minPartition, maxPartition, fromTimestamp, replicaId as strings
}

// rejection is an attempt refused before streaming.
type rejection struct {
	status     int    // HTTP status (gRPC maps it: 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, …)
	retryAfter string // Retry-After value, or ""
	message    string
}

func (r *rejection) Error() string { return strconv.Itoa(r.status) + " " + r.message }

// frameKind says what a frame carries.
type frameKind uint8

const (
	frameEvent     frameKind = iota // an event of the log (first send or duplicate)
	frameKeepAlive                  // a KEEP_ALIVE event
	frameInjected                   // an injected bad line (Malformed, Oversized, UnknownType)
	frameBinary                     // an injected WebSocket binary message; other transports skip it
)

// frame is one unit a transport writes: a line (HTTP), a message (WebSocket), a record (gRPC).
type frame struct {
	kind    frameKind
	line    []byte     // the JSON, without newline; owned by the session, valid until the next call to next
	partial bool       // a torn frame (CutMidLine): write it, then next returns errCut
	dup     bool       // a re-send of an event already sent on this connection
	inject  InjectKind // for frameInjected and frameBinary
}

var (
	// errCut asks the transport to close the connection abruptly (Cut, CutMidLine).
	errCut = errors.New("firehosetest: scripted abrupt close")
	// errServerClosed ends sessions when the server closes.
	errServerClosed = errors.New("firehosetest: server closed")
)

type sessState uint8

const (
	stStreaming sessState = iota
	stCut
	stEnd
	stStall
)

// item is a queued frame: a duplicate re-send or an injected line.
type item struct {
	dup    bool
	idx    uint64
	inject Inject
}

// session is one open stream: a cursor over the log plus the connection's script. It belongs to
// the goroutine of its handler: next, pending and close are not safe for concurrent use.
type session struct {
	srv *Server
	log *Log
	rec *reqRecord

	minPart, maxPart uint8
	from             int64  // effective fromTimestamp (window-clamped); 0 = no timestamp filter
	cursor           uint64 // next log index to look at
	ready            uint64 // events emitted at the last look at the clock
	peeked           bool   // peek holds the next matching event (cursor is past it)
	peek             meta

	scripted bool
	conn     Conn
	point    int
	fired    bool
	injects  []Inject // sorted by At, stable
	injNext  int
	action   Action
	tear     bool
	state    sessState
	served   int      // events sent for the first time
	recent   []uint64 // ring of the last served indices (for Duplicates)
	lastTS   int64    // recordTimestamp of the last event served (injected lines borrow it)
	queue    []item

	r         rng
	lastFrame time.Time
	timer     *time.Timer
	buf       []byte
	checks    uint8
	closed    bool
}

// open validates an attempt, records it in Requests and returns its session or its rejection.
func (s *Server) open(req request) (*session, *rejection) {
	now := time.Now()
	rec := &reqRecord{Request: Request{
		Transport: req.transport, Proto: req.proto, Path: req.path, Time: now,
		KeyOK: s.cfg.apiKey == "" || req.key == s.cfg.apiKey,
	}}
	perr := parseParams(req.query, &rec.Request)

	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, rec)
	conn, scripted := s.scriptFor(n)
	reject := func(status int, msg, retryAfter string) (*session, *rejection) {
		rec.Status = status
		if msg == "" {
			msg = http.StatusText(status)
		}
		return nil, &rejection{status: status, retryAfter: retryAfter, message: msg}
	}
	switch {
	case s.closed:
		return reject(http.StatusServiceUnavailable, "firehosetest: server closed", "")
	case scripted && conn.Status != 0:
		return reject(conn.Status, conn.Message, conn.RetryAfter)
	case req.path != EventsPath:
		return reject(http.StatusNotFound, "no such endpoint: "+req.path, "")
	case req.method != "" && req.method != http.MethodGet:
		return reject(http.StatusMethodNotAllowed, "method not allowed: "+req.method, "")
	case !rec.KeyOK:
		return reject(http.StatusUnauthorized, "API key missing, invalid or blocked", "")
	case !s.cfg.channels[req.transport]:
		return reject(http.StatusForbidden, "endpoint type "+req.transport+" is not enabled for this activation", "")
	case s.cfg.cloud && req.query.Has("replicaId"):
		return reject(http.StatusBadRequest, "replicaId is not supported for cloud activations", "")
	case perr != "":
		return reject(http.StatusBadRequest, perr, "")
	}
	rec.Status = http.StatusOK
	s.active.Add(1) // s.closed is false under s.mu: Close has not begun to wait

	ss := &session{
		srv: s, log: s.log, rec: rec,
		minPart: uint8(rec.MinPartition), maxPart: uint8(rec.MaxPartition),
		scripted: scripted, conn: conn,
		r:         rng{s: mix64(s.log.key ^ 0x73657373696f6e ^ uint64(n)<<20)},
		lastFrame: now,
	}
	ss.ready = s.log.emitted(now)
	ss.cursor = ss.ready
	if rec.FromTimestamp > 0 {
		ss.from = rec.FromTimestamp
		if w := s.cfg.replayWindow; w > 0 {
			ss.from = max(ss.from, now.Add(-w).UnixMilli())
		}
		ss.cursor = s.log.firstEmittedAtOrAfter(ss.from, ss.ready)
	}
	if scripted {
		ss.point = max(conn.point(), 0)
		ss.injects = slices.Clone(conn.Inject)
		slices.SortStableFunc(ss.injects, func(a, b Inject) int { return a.At - b.At })
		if conn.Duplicates > 0 {
			ss.recent = make([]uint64, 0, conn.Duplicates)
		}
	}
	ss.enqueueInjects(0)
	return ss, nil
}

// parseParams fills the request's parameters, with their defaults, and returns a 400 message or "".
func parseParams(q url.Values, r *Request) string {
	msg := ""
	intParam := func(name string, def int) int {
		v := q.Get(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > NumPartitions {
			if msg == "" {
				msg = name + " must be an integer from 1 to 12"
			}
			return 0
		}
		return n
	}
	r.MinPartition = intParam("minPartition", 1)
	r.MaxPartition = intParam("maxPartition", NumPartitions)
	if msg == "" && r.MinPartition > r.MaxPartition {
		msg = "minPartition must not be greater than maxPartition"
	}
	if v := q.Get("fromTimestamp"); v != "" {
		r.HasFromTimestamp = true
		n, err := strconv.ParseInt(v, 10, 64)
		if (err != nil || n < 0) && msg == "" {
			msg = "fromTimestamp must be epoch milliseconds"
		}
		r.FromTimestamp = max(n, 0)
	}
	if v := q.Get("replicaId"); v != "" {
		r.HasReplicaID = true
		n, err := strconv.Atoi(v)
		if (err != nil || n < 0) && msg == "" {
			msg = "replicaId must be a non-negative integer"
		}
		r.ReplicaID = max(n, 0)
	}
	return msg
}

func (s *Server) scriptFor(n int) (Conn, bool) {
	if n < len(s.cfg.script) {
		return s.cfg.script[n], true
	}
	if s.cfg.chaosEvery > 0 {
		return chaosConn(s.cfg.chaosSeed, s.cfg.chaosEvery, n), true
	}
	return Conn{}, false
}

// close releases the session; Close waits for it. Safe to call more than once.
func (ss *session) close() {
	if ss.closed {
		return
	}
	ss.closed = true
	if ss.timer != nil {
		ss.timer.Stop()
	}
	ss.srv.active.Done()
}

// next returns the next frame, waiting for it as long as ctx lives and the server runs. It returns
// errCut when the connection must be closed abruptly, io.EOF at a clean end (EndStream),
// errServerClosed when the server is closing (close abruptly too: the server went away) and
// ctx.Err() when ctx ended otherwise.
func (ss *session) next(ctx context.Context) (frame, error) {
	for {
		if ss.checks++; ss.checks == 0 || ss.state != stStreaming {
			if err := ss.alive(ctx); err != nil {
				return frame{}, err
			}
		}
		switch ss.state {
		case stCut:
			return frame{}, errCut
		case stEnd:
			return frame{}, io.EOF
		case stStall:
			return frame{}, ss.sleep(ctx, time.Time{})
		}
		if len(ss.queue) > 0 {
			it := ss.queue[0]
			ss.queue = ss.queue[1:]
			if len(ss.queue) == 0 {
				ss.queue = ss.queue[:0:0]
			}
			return ss.emit(ss.render(it)), nil
		}
		if ss.scripted && !ss.fired && ss.served >= ss.point {
			ss.fire()
			continue
		}
		if a := ss.action; a != None {
			ss.action = None
			switch a {
			case Cut:
				ss.state = stCut
			case EndStream:
				ss.state = stEnd
			case Stall:
				ss.state = stStall
			case CutMidLine:
				ss.tear = true
			}
			continue
		}
		f, m, err := ss.produce(ctx)
		if err != nil {
			return frame{}, err
		}
		if ss.tear {
			f.line = f.line[:len(f.line)/2]
			f.partial = true
			ss.state = stCut
			return f, nil
		}
		if f.kind == frameEvent {
			ss.served++
			ss.lastTS = m.ts
			if cap(ss.recent) > 0 {
				if len(ss.recent) == cap(ss.recent) {
					copy(ss.recent, ss.recent[1:])
					ss.recent = ss.recent[:len(ss.recent)-1]
				}
				ss.recent = append(ss.recent, m.idx)
			}
			if !ss.scripted || ss.fired || ss.served != ss.point {
				ss.enqueueInjects(ss.served)
			}
		}
		return ss.emit(f), nil
	}
}

// pending reports whether next would return at once: the transport flushes when it would not. It
// never says true when next would block (that would leave written lines unflushed); a false when
// next would not block only costs an extra flush.
func (ss *session) pending() bool {
	switch ss.state {
	case stCut, stEnd:
		return true
	case stStall:
		return false
	}
	if len(ss.queue) > 0 {
		return true
	}
	if ss.scripted && !ss.fired && ss.served >= ss.point {
		if (ss.conn.Duplicates > 0 && len(ss.recent) > 0) ||
			(ss.injNext < len(ss.injects) && ss.injects[ss.injNext].At <= ss.served) {
			return true // fire queues frames
		}
		return ss.actionReady(ss.conn.Action)
	}
	return ss.actionReady(ss.action)
}

// actionReady reports whether next returns at once when action a is due.
func (ss *session) actionReady(a Action) bool {
	switch a {
	case Cut, EndStream:
		return true
	case Stall:
		return false
	}
	return ss.peekReady() // None, CutMidLine: the next event
}

// fire performs the fault point: the duplicate burst, the injections due, then the action.
func (ss *session) fire() {
	ss.fired = true
	n := min(ss.conn.Duplicates, len(ss.recent))
	for _, idx := range ss.recent[len(ss.recent)-n:] {
		ss.queue = append(ss.queue, item{dup: true, idx: idx})
	}
	ss.recent = nil
	ss.enqueueInjects(ss.served)
	ss.action = ss.conn.Action
}

func (ss *session) enqueueInjects(served int) {
	for ss.injNext < len(ss.injects) && ss.injects[ss.injNext].At <= served {
		ss.queue = append(ss.queue, item{inject: ss.injects[ss.injNext]})
		ss.injNext++
	}
}

// emit accounts for a frame about to be handed to the transport.
func (ss *session) emit(f frame) frame {
	if f.kind == frameEvent {
		ss.srv.served.Add(1)
		ss.rec.served.Add(1)
	}
	ss.lastFrame = time.Now()
	return f
}

// produce returns the next event of the stream, or a keep-alive after the silence, waiting for it.
func (ss *session) produce(ctx context.Context) (frame, meta, error) {
	for {
		if ss.peekReady() {
			ss.peeked = false
			line, cached := ss.log.line(ss.buf, &ss.peek)
			if !cached {
				ss.buf = line
			}
			return frame{kind: frameEvent, line: line}, ss.peek, nil
		}
		now := time.Now()
		var wake time.Time
		if ka := ss.srv.cfg.keepAlive; ka > 0 {
			due := ss.lastFrame.Add(ka)
			if !due.After(now) {
				return ss.keepAlive(now), meta{}, nil
			}
			wake = due
		}
		if ss.log.finite(ss.cursor) {
			if e := ss.log.start.Add(ss.log.offset(ss.cursor)); wake.IsZero() || e.Before(wake) {
				wake = e
			}
		}
		if err := ss.sleep(ctx, wake); err != nil {
			return frame{}, meta{}, err
		}
	}
}

// peekReady finds the next emitted event that passes the filters, looking at the clock once when
// the known emitted ones are used up.
func (ss *session) peekReady() bool {
	if ss.peeked {
		return true
	}
	looked := false
	for {
		for ss.cursor < ss.ready {
			m := ss.log.meta(ss.cursor)
			ss.cursor++
			if m.part < ss.minPart || m.part > ss.maxPart || m.ts < ss.from {
				continue
			}
			ss.peek, ss.peeked = m, true
			return true
		}
		if looked {
			return false
		}
		looked = true
		ss.ready = ss.log.emitted(time.Now())
	}
}

// sleep waits until t (zero: forever) or until ctx ends or the server closes.
func (ss *session) sleep(ctx context.Context, t time.Time) error {
	var tc <-chan time.Time
	if !t.IsZero() {
		d := time.Until(t)
		if d <= 0 {
			return ss.alive(ctx)
		}
		if ss.timer == nil {
			ss.timer = time.NewTimer(d)
		} else {
			ss.timer.Reset(d)
		}
		tc = ss.timer.C
	}
	select {
	case <-tc:
		return nil
	case <-ctx.Done():
		return ss.stopErr(ctx)
	case <-ss.srv.done:
		return errServerClosed
	}
}

func (ss *session) alive(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ss.stopErr(ctx)
	case <-ss.srv.done:
		return errServerClosed
	default:
		return nil
	}
}

// stopErr is errServerClosed once the server is closing (request contexts derive from its own),
// else ctx's error.
func (ss *session) stopErr(ctx context.Context) error {
	select {
	case <-ss.srv.done:
		return errServerClosed
	default:
		return ctx.Err()
	}
}

func (ss *session) keepAlive(now time.Time) frame {
	b := append(ss.buf[:0], `{"recordUid":"event-`...)
	b = strconv.AppendUint(b, uint64(uint32(ss.r.u64())), 16)
	b = append(b, `","recordTimestamp":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	b = append(b, `,"spacesTenantId":"","spacesTenantName":"","partnerTenantId":"","eventType":"KEEP_ALIVE"}`...)
	ss.buf = b
	return frame{kind: frameKeepAlive, line: b}
}

// render makes a queued frame.
func (ss *session) render(it item) frame {
	if it.dup {
		m := ss.log.meta(it.idx)
		line, cached := ss.log.line(ss.buf, &m)
		if !cached {
			ss.buf = line
		}
		return frame{kind: frameEvent, line: line, dup: true}
	}
	// An injected line carries the timestamp of the event before it, so a
	// client's watermark stays inside the log's history: an unknown-type
	// event stamped "now" would make every later replay skip the rest.
	at := time.Now()
	if ss.lastTS > 0 {
		at = time.UnixMilli(ss.lastTS)
	}
	ss.buf = ss.log.appendInjected(ss.buf[:0], it.inject, &ss.r, at)
	kind := frameInjected
	if it.inject.Kind == BinaryMessage {
		kind = frameBinary
	}
	return frame{kind: kind, line: ss.buf, inject: it.inject.Kind}
}
