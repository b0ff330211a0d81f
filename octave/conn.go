package octave

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/firehose-go/firehose"
)

// One connection: a session's socket, its subscriptions, and the gap-fills they call for.
//
// Next reads the socket's messages in order, routing each as it arrives. A reply is settled at
// once: an ack starts the stream's gap-fill (Config.GapFill), a refusal with 404 or 403 drops the
// stream for good, any other refusal is sent again after a backoff. Events and other frames go
// into a queue and are handed out in order. While a fill runs its events come first, and the
// socket's messages wait in the queue (up to maxQueue, then in the socket's buffers); each live
// push of the stream being filled tells the fill where live delivery begins, so it stops there. A
// REST request that fails parks the fill (live events go on) until a backoff has passed; a 4xx
// other than 408 and 429 ends it with a gap report. Subscription changes (Streams), retries and
// probes are sent between two messages.

const (
	maxQueue      = 8192 // messages read ahead during a gap-fill
	restRetryWait = 250 * time.Millisecond
	maxRESTRetry  = 30 * time.Second
)

// queued is a socket message, routed.
type queued struct {
	in    inMsg
	r     routed
	err   error  // a malformed frame
	name  string // for an event: the stream it belongs to ("" if none)
	fatal error  // a reply's consequence that ends the stream (no stream left)
	alive bool   // a probe's reply: FrameLiveness
}

// sub is a stream's subscription on this connection.
type sub struct {
	msgID   string    // the pending subscribe's msgId ("" once settled)
	sentAt  time.Time // when it was sent
	acked   bool
	retryAt time.Time // when to send it again after a refusal (zero: not scheduled)
	backoff time.Duration
	liveMin int64 // the oldest creationDate pushed live on this connection (0: none yet)
	typ     []byte
}

type conn struct {
	src   *source
	ctx   context.Context
	alive func()
	sock  *socket

	watch   <-chan struct{}
	unwatch func()
	dirty   bool // the stream set changed

	subs    map[string]*sub   // by stream name
	gone    map[string]bool   // streams unsubscribed on this connection (names and learned ids)
	pending map[string]string // msgId → stream name, for subscribes and unsubscribes
	queue   []queued
	qhead   int

	fills    []string // streams waiting for a gap-fill
	fill     *filler  // the fill running
	fillName string
	parked   map[string]*parkedFill // fills waiting to retry a failed REST request
	timer    *time.Timer
	nextDue  time.Time // the earliest retry, ack or probe deadline
	closed   bool

	lastData time.Time // when the server last sent a message (not a pong)
	probeID  string    // the pending probe's msgId ("" when none)
	probeAt  time.Time // when it was sent
}

// parkedFill is a fill whose REST request failed: it resumes where it stopped at the given time.
// Meanwhile live events flow; the stream's gap stays open (in the cursor too).
type parkedFill struct {
	f     *filler
	at    time.Time
	wait  time.Duration
	fails int
}

// probeStream is the stream a probe subscribes to: a well-formed id no stream has, so that the
// reply (a 404) proves the server's application alive without changing any subscription.
const probeStream = "s000000000000000000000000"

func newConn(ctx context.Context, s *source, sock *socket, alive func()) *conn {
	c := &conn{src: s, ctx: ctx, alive: alive, sock: sock, subs: map[string]*sub{}, gone: map[string]bool{}, pending: map[string]string{}, parked: map[string]*parkedFill{}, lastData: time.Now()}
	if c.alive == nil {
		c.alive = func() {}
	}
	c.watch, c.unwatch = s.streams.watch()
	return c
}

// Close ends the socket and waits for its goroutines.
func (c *conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.unwatch()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.sock.close()
	return nil
}

// Next returns the next frame: an event (pushed or back-filled) or an unknown frame
// (FrameControl); or an error: a *firehose.FrameError for one bad frame, a *firehose.GapError for
// events that cannot be delivered, anything else for the end of the connection.
func (c *conn) Next(f *firehose.Frame) error {
	for {
		if c.ctx.Err() != nil {
			return context.Cause(c.ctx)
		}
		now := time.Now()
		due := !c.nextDue.IsZero() && !now.Before(c.nextDue)
		if due {
			// A reply may be waiting behind pushes the caller has not taken yet: read what is
			// there (replies are settled on arrival) before judging a deadline.
			c.readAhead()
		}
		if c.dirty || due {
			if err := c.syncStreams(now); err != nil {
				return err
			}
		}
		if c.fill == nil && len(c.fills) > 0 {
			c.startFill()
			continue
		}
		if c.fill != nil {
			c.readAhead()
			delivered, err := c.fillNext(f)
			if delivered || err != nil {
				return err
			}
			continue
		}
		if c.qhead < len(c.queue) {
			q := c.queue[c.qhead]
			c.queue[c.qhead] = queued{}
			c.qhead++
			if c.qhead == len(c.queue) {
				c.queue, c.qhead = c.queue[:0], 0
			}
			delivered, err := c.handle(q, f)
			if delivered || err != nil {
				return err
			}
			continue
		}
		if err := c.wait(now); err != nil {
			return err
		}
	}
}

// wait blocks until a message, a change of the stream set, a deadline or the end of ctx.
func (c *conn) wait(now time.Time) error {
	var due <-chan time.Time
	if !c.nextDue.IsZero() {
		d := c.nextDue.Sub(now)
		if c.timer == nil {
			c.timer = time.NewTimer(d)
		} else {
			c.timer.Reset(d)
		}
		due = c.timer.C
	}
	select {
	case m := <-c.sock.in:
		c.push(m)
	case <-c.watch:
		c.dirty = true
	case <-due:
	case <-c.ctx.Done():
		return context.Cause(c.ctx)
	}
	return nil
}

// readAhead moves what the socket has ready into the queue, without blocking.
func (c *conn) readAhead() {
	for len(c.queue)-c.qhead < maxQueue {
		select {
		case m := <-c.sock.in:
			c.push(m)
		default:
			return
		}
	}
}

// push routes a message into the queue; a live push bounds the fill of its stream. A reply is
// settled at once, not queued: its request's deadline must not pass while a fill holds the
// queue, and a retry or a fill it calls for should not wait either.
func (c *conn) push(m inMsg) {
	q := queued{in: m}
	if m.err == nil {
		c.lastData = time.Now()
	}
	if m.err == nil && m.unit == nil {
		q.r, q.err = route(m.data)
		if q.err == nil && q.r.class == classReply {
			c.alive()
			if c.probeID != "" && q.r.reply.MsgID == c.probeID {
				// Any answer will do: the server is there. Handed out as liveness, so that a
				// quiet stream still checkpoints.
				c.probeID = ""
				c.queue = append(c.queue, queued{alive: true})
				return
			}
			if err := c.onReply(q.r.reply); err != nil {
				c.queue = append(c.queue, queued{fatal: err})
			}
			return
		}
		if q.err == nil && q.r.class == classEvent {
			q.name = c.resolve(&q.r.event)
			if st := c.subs[q.name]; st != nil {
				cd := q.r.event.CreationDate
				if st.liveMin == 0 || cd < st.liveMin {
					st.liveMin = cd
				}
				if c.fill != nil && c.fillName == q.name {
					c.fill.setUntil(cd)
				}
				if pf := c.parked[q.name]; pf != nil {
					pf.f.setUntil(cd)
				}
			}
		}
	}
	c.queue = append(c.queue, q)
}

// resolve finds the stream an event belongs to: by the push's resource or the event's streamId
// (a stream named by id), else by its path (a stream named by path, whose id is then learned).
// An event of an unsubscribed stream resolves to "" (dropped). Any other event is delivered all
// the same: to the one stream named by path whose id is still unknown, else under its stream id
// as type, without a position (spec/dialects.md §2.4: resource is the stream id even for a path
// subscription, and events are expected to carry their path; this covers a server that omits it).
func (c *conn) resolve(ev *event) string {
	for _, k := range []string{ev.Resource, ev.StreamID} {
		if k == "" {
			continue
		}
		if _, ok := c.subs[k]; ok {
			return k
		}
		if n, ok := c.src.names[k]; ok {
			if _, ok := c.subs[n]; ok {
				return n
			}
		}
	}
	id := ev.StreamID
	if ev.Resource != "" {
		id = ev.Resource
	}
	if ev.Path != "" {
		if _, ok := c.subs[ev.Path]; ok {
			if id != "" {
				c.src.names[id] = ev.Path
			}
			return ev.Path
		}
	}
	for _, k := range []string{ev.Resource, ev.StreamID, ev.Path, c.src.names[id]} {
		if k != "" && c.gone[k] {
			return ""
		}
	}
	if id == "" {
		return ""
	}
	var unknown []string
	known := map[string]bool{}
	for _, n := range c.src.names {
		known[n] = true
	}
	for n := range c.subs {
		if isPath(n) && !known[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) == 1 {
		c.src.names[id] = unknown[0]
		c.src.log.Debug("octave: stream id learned from a push without path", "stream", unknown[0], "id", id)
		return unknown[0]
	}
	return id
}

// handle turns one queued message into a frame; false when there is nothing to return.
func (c *conn) handle(q queued, f *firehose.Frame) (bool, error) {
	switch {
	case q.alive:
		*f = firehose.Frame{Kind: firehose.FrameLiveness}
		return true, nil
	case q.fatal != nil:
		return false, q.fatal
	case q.in.err != nil:
		return false, closeReason(q.in.err)
	case q.in.unit != nil:
		return false, unitError(q.in.unit, c.src.maxMsg)
	case q.err != nil:
		return false, frameError(firehose.DropMalformed, len(q.in.data), q.err)
	}
	switch q.r.class {
	case classEvent:
		name := c.resolve(&q.r.event) // again: the set may have changed since it was queued
		if name == "" {
			c.src.log.Debug("octave: event of an unsubscribed stream dropped", "resource", q.r.event.Resource, "path", q.r.event.Path, "id", q.r.event.ID)
			return false, nil
		}
		c.deliver(f, name, q.r.event)
		return true, nil
	}
	c.src.unknown++
	c.src.log.Debug("octave: unknown frame ignored", "type", q.r.kind, "count", c.src.unknown)
	*f = firehose.Frame{Kind: firehose.FrameControl}
	return true, nil
}

// deliver makes f the event and moves the stream's position.
func (c *conn) deliver(f *firehose.Frame, name string, ev event) {
	var typ []byte
	if st := c.subs[name]; st != nil {
		typ = st.typ
	} else {
		typ = []byte(name)
	}
	*f = firehose.Frame{
		Kind:      firehose.FrameEvent,
		ID:        []byte(ev.ID),
		Timestamp: ev.CreationDate,
		Type:      typ,
		Raw:       ev.Value,
		Payload:   ev.Value,
	}
	if p := c.src.pos[name]; p != nil {
		p.delivered(ev.ID, ev.CreationDate)
	}
}

// onReply settles the request a reply answers.
func (c *conn) onReply(r reply) error {
	name, ok := c.pending[r.MsgID]
	if !ok {
		c.src.log.Debug("octave: reply to no pending request", "msgId", r.MsgID, "ok", r.OK)
		return nil
	}
	delete(c.pending, r.MsgID)
	st := c.subs[name]
	if st == nil || st.msgID != r.MsgID { // an unsubscribe's reply, or a stale one
		if !r.OK {
			c.src.log.Warn("octave: unsubscribe refused", "stream", name, "status", r.Status, "errors", r.Errors)
		}
		return nil
	}
	st.msgID = ""
	p := c.src.pos[name]
	if r.OK {
		st.acked, st.backoff = true, 0
		c.src.log.Debug("octave: subscribed", "stream", name)
		again := p.acked
		p.acked = true
		switch {
		case c.src.cfg.GapFill:
			c.fills = append(c.fills, name)
		case again && p.gapOpen:
			p.gapOpen = false
			return gapNoReplayError(name, p.gapFrom)
		default:
			p.gapOpen = false
		}
		return nil
	}
	msg := strings.Join(r.Errors, "; ")
	if r.Status == http.StatusNotFound || r.Status == http.StatusForbidden {
		err := &SubscribeError{Stream: name, Status: r.Status, Message: c.src.creds.redact(trimMessage(msg))}
		c.src.log.Error("octave: subscribe refused for good; the stream is dropped", "stream", name, "status", r.Status, "errors", r.Errors)
		delete(c.subs, name)
		delete(c.src.pos, name)
		c.dropFill(name)
		c.src.streams.fail(name, err)
		if len(c.src.streams.Names()) == 0 {
			return fatalAll(c.src.streams.failures())
		}
		return nil
	}
	st.backoff = nextBackoff(st.backoff, c.src.cfg.SubscribeRetry)
	st.retryAt = time.Now().Add(st.backoff)
	c.src.log.Warn("octave: subscribe refused; retrying", "stream", name, "status", r.Status, "errors", r.Errors, "in", st.backoff)
	p.openGap()
	c.scheduleDue(st.retryAt)
	return nil
}

// SubscribeError is Octave's refusal of a stream's subscribe for good (404: no such stream,
// 403: not allowed). Streams.Err returns it, and it ends the run when no stream is left.
type SubscribeError struct {
	Stream  string
	Status  int
	Message string // the server's errors, joined
}

func (e *SubscribeError) Error() string {
	return fmt.Sprintf("octave: subscribe %s refused: status %d: %s", e.Stream, e.Status, e.Message)
}

// fatalAll ends the run: every stream was refused for good.
func fatalAll(errs []error) error {
	return fmt.Errorf("%w: octave: no stream left to consume: %w", firehose.ErrFatal, errors.Join(errs...))
}

// nextBackoff doubles d from first up to MaxSubscribeRetry, with ±20 % jitter.
func nextBackoff(d, first time.Duration) time.Duration {
	if d == 0 {
		d = first
	} else {
		d = min(2*d, MaxSubscribeRetry)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (c *conn) scheduleDue(t time.Time) {
	if c.nextDue.IsZero() || t.Before(c.nextDue) {
		c.nextDue = t
	}
}

// syncStreams brings the socket's subscriptions in line with the stream set, sends retries that
// are due, and fails the connection when a subscribe waits past the ack timeout.
func (c *conn) syncStreams(now time.Time) error {
	c.dirty = false
	names := c.src.streams.Names()
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
		if c.subs[n] == nil {
			delete(c.gone, n)
			p := c.src.position(n, now)
			p.openGap()
			st := &sub{typ: []byte(n)}
			c.subs[n] = st
			if !c.subscribe(n, st, now) {
				return c.sockErr()
			}
		}
	}
	for n := range c.subs {
		if !want[n] {
			c.gone[n] = true
			for id, name := range c.src.names {
				if name == n {
					c.gone[id] = true
					delete(c.src.names, id)
				}
			}
			delete(c.subs, n)
			delete(c.src.pos, n)
			c.dropFill(n)
			id := c.src.ids.next()
			c.pending[id] = n
			if !c.sock.send(c.ctx, appendRequest(nil, "unsubscribe", id, n)) {
				return c.sockErr()
			}
		}
	}
	c.nextDue = time.Time{}
	// Behind the socket (a full queue during a fill), an ack may be waiting unread: no verdict.
	behind := len(c.queue)-c.qhead >= maxQueue
	for n, st := range c.subs {
		switch {
		case st.msgID != "":
			if dl := st.sentAt.Add(c.src.cfg.AckTimeout); !now.Before(dl) && !behind {
				return fmt.Errorf("octave: subscribe %s not acknowledged within %v", n, c.src.cfg.AckTimeout)
			} else {
				c.scheduleDue(dl)
			}
		case !st.retryAt.IsZero() && !now.Before(st.retryAt):
			if !c.subscribe(n, st, now) {
				return c.sockErr()
			}
			c.scheduleDue(st.sentAt.Add(c.src.cfg.AckTimeout))
		case !st.retryAt.IsZero():
			c.scheduleDue(st.retryAt)
		}
	}
	for n, pf := range c.parked {
		if now.Before(pf.at) {
			c.scheduleDue(pf.at)
		} else if !slices.Contains(c.fills, n) {
			c.fills = append(c.fills, n)
		}
	}
	return c.probe(now, behind)
}

// probe checks that a quiet socket still has a server behind it: after Config.Probe without a
// message, it subscribes to probeStream, and fails the connection if no reply comes within
// Config.AckTimeout. Pongs alone cannot tell: a server can answer pings and push nothing.
func (c *conn) probe(now time.Time, behind bool) error {
	quiet := c.src.cfg.Probe
	if quiet <= 0 {
		return nil
	}
	if c.probeID != "" {
		dl := c.probeAt.Add(c.src.cfg.AckTimeout)
		if !now.Before(dl) && !behind {
			return fmt.Errorf("octave: the socket is silent: no reply to a probe within %v", c.src.cfg.AckTimeout)
		}
		c.scheduleDue(dl)
		return nil
	}
	if due := c.lastData.Add(quiet); now.Before(due) {
		c.scheduleDue(due)
		return nil
	}
	c.probeID, c.probeAt = c.src.ids.next(), now
	c.scheduleDue(now.Add(c.src.cfg.AckTimeout))
	if !c.sock.send(c.ctx, appendRequest(nil, "subscribe", c.probeID, probeStream)) {
		return c.sockErr()
	}
	return nil
}

// subscribe sends a stream's subscribe.
func (c *conn) subscribe(name string, st *sub, now time.Time) bool {
	id := c.src.ids.next()
	st.msgID, st.sentAt, st.retryAt = id, now, time.Time{}
	c.pending[id] = name
	c.scheduleDue(now.Add(c.src.cfg.AckTimeout))
	return c.sock.send(c.ctx, appendRequest(nil, "subscribe", id, name))
}

func (c *conn) sockErr() error {
	if c.ctx.Err() != nil {
		return context.Cause(c.ctx)
	}
	return errors.New("octave: socket writer stopped")
}

// dropFill forgets a stream's pending, parked or running fill.
func (c *conn) dropFill(name string) {
	if c.fillName == name {
		c.fill, c.fillName = nil, ""
	}
	delete(c.parked, name)
	if i := slices.Index(c.fills, name); i >= 0 {
		c.fills = slices.Delete(c.fills, i, i+1)
	}
}

// startFill begins (or resumes) the next stream's gap-fill.
func (c *conn) startFill() {
	name := c.fills[0]
	c.fills = c.fills[1:]
	p, st := c.src.pos[name], c.subs[name]
	if p == nil || st == nil || !p.gapOpen {
		delete(c.parked, name)
		return
	}
	if pf := c.parked[name]; pf != nil {
		if time.Now().Before(pf.at) {
			return // an ack came again meanwhile; the retry is scheduled
		}
		c.fill, c.fillName = pf.f, name
		return
	}
	c.fill, c.fillName = newFiller(c.src.rest, name, p.gapFrom, p.gapIDs), name
	if st.liveMin != 0 {
		c.fill.setUntil(st.liveMin)
	}
	c.src.log.Debug("octave: gap-fill", "stream", name, "from", fmtMS(p.gapFrom))
}

// fillNext returns the next back-filled event, if any.
func (c *conn) fillNext(f *firehose.Frame) (bool, error) {
	// A REST round trip is not silence: the idle clock is kept alive while it lasts, within
	// RESTTimeout.
	ctx, cancel := context.WithTimeout(c.ctx, c.src.cfg.RESTTimeout)
	stop := keepAlive(c.alive, c.src.idle/4)
	ev, gap, ok, err := c.fill.next(ctx)
	stop()
	cancel()
	name := c.fillName
	p := c.src.pos[name]
	switch {
	case err != nil:
		if c.ctx.Err() != nil {
			return false, context.Cause(c.ctx)
		}
		var he *httpError
		if errors.As(err, &he) && he.status/100 == 4 && he.status != http.StatusTooManyRequests && he.status != http.StatusRequestTimeout {
			// REST refuses this stream's history (permissions, a path it does not know):
			// retrying cannot help. Report the gap and go on live.
			c.fill, c.fillName = nil, ""
			delete(c.parked, name)
			p.gapOpen = false
			c.src.log.Error("octave: gap-fill refused", "stream", name, "status", he.status, "message", he.message)
			return false, gapFillFailedError(name, p.gapFrom, err)
		}
		// Anything else may pass: park the fill (live events go on meanwhile) and resume it
		// where it stopped after a backoff.
		pf := c.parked[name]
		if pf == nil {
			pf = &parkedFill{f: c.fill}
			c.parked[name] = pf
		}
		pf.fails++
		pf.wait = min(max(2*pf.wait, restRetryWait), maxRESTRetry)
		pf.at = time.Now().Add(pf.wait)
		c.scheduleDue(pf.at)
		c.fill, c.fillName = nil, ""
		c.src.log.Warn("octave: gap-fill request failed; live events go on, the fill resumes later",
			"stream", name, "failures", pf.fails, "in", pf.wait, "err", err)
		return false, nil
	case gap != nil:
		c.src.log.Warn("octave: events evicted before gap-fill could fetch them", "stream", name, "from", fmtMS(gap.From), "to", fmtMS(gap.To))
		return false, gapEvictedError(name, gap.From, gap.To)
	case !ok:
		c.src.log.Debug("octave: gap-fill done", "stream", name, "pages", c.fill.pages)
		c.fill, c.fillName = nil, ""
		delete(c.parked, name)
		p.gapOpen = false
		return false, nil
	}
	if pf := c.parked[name]; pf != nil {
		pf.wait, pf.fails = 0, 0 // it works again
	}
	c.deliver(f, name, ev)
	return true, nil
}

// keepAlive calls alive now and every interval until the returned stop is called; stop waits
// for the goroutine. interval <= 0: only now.
func keepAlive(alive func(), interval time.Duration) (stop func()) {
	alive()
	if interval <= 0 {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				alive()
			}
		}
	}()
	return func() {
		close(done)
		<-exited
		alive()
	}
}
