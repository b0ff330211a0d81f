package firehose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/firehose-go/firehose/internal/dedupe"
)

// Stream is one receiver's ordered flow of events. Next, All and Close may be
// called from different goroutines, but Next and All are meant for one
// consumer at a time.
type Stream interface {
	// Next blocks until the next event and returns it. Calling Next again marks
	// the previous event finished: only then does the resume point move past it.
	// Recoverable trouble (dropped connections, 429, 5xx, idle silence,
	// malformed lines) never surfaces here: the stream reconnects and replays.
	// Next returns an error only when the stream is over: a fatal error
	// (errors.Is(err, ErrFatal)), ctx's error, or ErrClosed. Cancelling ctx
	// while Next waits drops the current connection; a later Next reconnects
	// and replays, losing nothing.
	Next(ctx context.Context) (*Event, error)
	// All is Next as a range-over-func iterator. It yields (nil, err) once
	// when the stream ends. Breaking out of the loop marks the last event
	// finished.
	All(ctx context.Context) iter.Seq2[*Event, error]
	// Close ends the stream: it interrupts a waiting Next, waits for it to
	// return, marks the event the caller holds finished, saves the checkpoint
	// (if one is configured) and closes the connection. It is idempotent and
	// safe to call concurrently; it returns the checkpoint's save error, if any.
	Close() error
	// Stats returns a snapshot of this stream's counters; safe from any goroutine.
	Stats() Stats
}

// Handler processes one event. It is finished with the event when it returns
// nil; a non-nil error stops Run and is returned by it, the event unfinished.
type Handler func(ctx context.Context, ev *Event) error

// errCallerDone is the cause the engine records when the caller's ctx ended
// while it waited, to tell that apart from its own cancellations.
var errCallerDone = errors.New("firehose: caller's context done")

var keepAliveName = []byte(KeepAlive)

// stream is the engine: one reconnect loop for one receiver, whatever the
// transport. It reads on the caller's goroutine: no channel hop per event.
type stream struct {
	cfg  *config
	tr   connector
	rng  Range
	win  *dedupe.Window
	st   *counters
	life context.Context // ends with Close
	kill context.CancelCauseFunc

	mu      sync.Mutex // held by Next for its whole call; Close takes it to wait
	c       conn       // current connection, nil when none
	cctx    context.Context
	watch   *watchdog
	f       frame
	held    bool  // the caller holds an event not yet finished
	heldTS  int64 // its timestamp
	wm      int64 // watermark: the highest timestamp among finished events (0: none)
	start   int64 // the configured start or the checkpoint's (0: live)
	liveAt  int64 // resume point of a live start before its first event
	newHere int   // new events delivered on the current connection
	bo      *backoff.ExponentialBackOff
	wait    time.Duration // before the next attempt
	fails   int           // consecutive failed attempts
	ended   error         // why the previous connection ended
	endedAt time.Time
	err     error // sticky: the error that ended the stream

	cmu     sync.Mutex // guards ccancel against interrupts from other goroutines
	ccancel context.CancelCauseFunc

	ctxFor  context.Context // the ctx whose cancellation is being watched
	ctxStop func() bool

	progress  atomic.Uint64 // odd while waiting for bytes; see watchdog
	closeOnce sync.Once
	closeErr  error
	ckpt      *checkpointState
	loaded    bool // the checkpoint (if any) has been applied

	// margin is the replay margin in force: the configured one, halved while
	// connections end inside the replay (see adaptMargin).
	margin   time.Duration
	dupsHere int  // duplicates received on the current connection
	lastDup  bool // its latest frame was a duplicate: it ended inside the replay

	// After a reconnect with a watermark, the replay must bring back finished
	// events first; a new event past replayFloor before any of them means the
	// server could not replay from where we asked.
	replayCheck bool
	replayFloor int64
}

func newStream(cfg *config, tr connector, rng Range, st *counters) *stream {
	life, kill := context.WithCancelCause(context.Background())
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = cfg.backoffInitial
	bo.MaxInterval = cfg.backoffMax
	bo.MaxElapsedTime = 0 // never give up by itself (v4's default stops after 15 min)
	bo.Reset()
	s := &stream{
		cfg: cfg, tr: tr, rng: rng, st: st,
		win:  dedupe.New(cfg.dedupeCap),
		life: life, kill: kill,
		start:  cfg.start,
		bo:     bo,
		margin: cfg.margin,
	}
	st.rng = rng
	return s
}

// Next implements Stream.
func (s *stream) Next(ctx context.Context) (*Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.advance(ctx); err != nil {
		return nil, err
	}
	ev := s.event()
	s.delivered(ev.ts)
	return ev, nil
}

// advance finishes the event the caller held and reads until s.f holds the
// next new event, reconnecting as needed. s.mu is held.
func (s *stream) advance(ctx context.Context) error {
	s.finish()
	if s.err != nil {
		return s.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.watchCaller(ctx)
	if s.ckpt != nil {
		s.ckpt.tick(s)
	}
	for {
		if err := s.ensureConn(ctx); err != nil {
			return s.fail(err)
		}
		s.progress.Add(1) // waiting for bytes: the idle clock runs
		err := s.c.next(&s.f)
		s.progress.Add(1) // not waiting: it stops
		if err == nil {
			if s.admit() {
				return nil
			}
			continue
		}
		var fe *frameError
		if errors.As(err, &fe) {
			s.dropped(fe)
			continue
		}
		if stop := s.endConn(ctx, err); stop != nil {
			return s.fail(stop)
		}
	}
}

// All implements Stream.
func (s *stream) All(ctx context.Context) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		for {
			ev, err := s.Next(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(ev, nil) {
				s.mu.Lock()
				s.finish()
				s.mu.Unlock()
				return
			}
		}
	}
}

// Close implements Stream.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.kill(ErrClosed)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.finish()
		if s.err == nil {
			s.err = ErrClosed
		}
		s.dropConn()
		if s.ckpt != nil {
			s.closeErr = s.ckpt.final(s)
		}
		if s.ctxStop != nil {
			s.ctxStop()
		}
		s.tr.close()
	})
	return s.closeErr
}

// Stats implements Stream.
func (s *stream) Stats() Stats { return s.st.snapshot(s.cfg.now()) }

// finish marks the event the caller holds as processed: the watermark may
// move past it. Keep-alives, duplicates and malformed lines never get here.
func (s *stream) finish() {
	if !s.held {
		return
	}
	s.held = false
	if s.heldTS > s.wm {
		s.wm = s.heldTS
		s.st.watermark.Store(s.wm)
	}
}

// abandon records that the caller failed on ev: it is not finished, and it
// must never be saved as seen.
func (s *stream) abandon(id string, ts int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = false
	if s.ckpt != nil {
		s.ckpt.skip = Fingerprint(id, ts)
	}
}

func (s *stream) abandonFrame() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = false
	if s.ckpt != nil {
		s.ckpt.skip = dedupe.Fingerprint(s.f.env.ID, s.f.env.Timestamp)
	}
}

// admit filters the frame just read: keep-alives and duplicates are counted
// and dropped; anything else is new.
func (s *stream) admit() bool {
	env := &s.f.env
	if bytes.Equal(env.Type, keepAliveName) {
		s.st.keepAlives.Add(1)
		s.lastDup = false // a keep-alive: the server has nothing more to replay
		if s.ckpt != nil {
			s.ckpt.tick(s) // a quiet stream still saves what was finished
		}
		return false
	}
	if s.win.Seen(dedupe.Fingerprint(env.ID, env.Timestamp), env.Timestamp) {
		s.st.duplicates.Add(1)
		s.replayCheck = false // the server is replaying what we asked for
		s.dupsHere++
		s.lastDup = true
		return false
	}
	if s.replayCheck && env.Timestamp > s.replayFloor {
		s.replayCheck = false
		s.replayMissed(env.Timestamp)
	}
	return true
}

// replayMissed reports a reconnect whose replay began later than asked: an
// event well past the watermark came before any of the already-finished
// events the server should have resent first. The server's window no longer
// reached the resume point; events in between may be missing.
func (s *stream) replayMissed(ts int64) {
	s.st.gaps.Add(1)
	err := fmt.Errorf("%w: asked to replay from %d, the server resumed at %d", ErrGap, s.st.resumedFrom.Load(), ts)
	s.st.setLastError(err)
	s.cfg.logger.Error("firehose: replay started later than requested", "range", s.rng.String(), "err", err)
	s.hookError(err)
}

// event makes the owned Event for the admitted frame.
func (s *stream) event() *Event {
	if s.f.format == formatProto {
		return newProtoEvent(&s.f)
	}
	return newJSONEvent(s.f.raw, &s.f.env)
}

func (s *stream) delivered(ts int64) {
	s.held, s.heldTS = true, ts
	s.st.events.Add(1)
	s.st.bytes.Add(int64(len(s.f.raw)))
	s.st.lastTS.Store(ts)
	if t, known := internType(s.f.env.Type); !known || !t.numbered() {
		s.st.unknown.Add(1)
	}
	if s.newHere == 0 {
		// A connection that delivers new events is healthy: start the backoff over.
		s.bo.Reset()
		s.fails = 0
	}
	s.newHere++
	s.lastDup = false
}

func (s *stream) dropped(fe *frameError) {
	switch fe.kind {
	case badOversized:
		s.st.oversized.Add(1)
	case badTorn:
		s.st.torn.Add(1)
	default:
		s.st.malformed.Add(1)
	}
	s.cfg.logger.Warn("firehose: frame dropped", "range", s.rng.String(), "kind", fe.kind.String(), "size", fe.size, "err", fe.err)
	s.hookError(fe)
}

// ensureConn connects if there is no connection, waiting out the backoff
// first; it returns only a connection or an error that ends the stream.
func (s *stream) ensureConn(ctx context.Context) error {
	for s.c == nil {
		if s.wait > 0 {
			if err := s.sleep(ctx, s.wait); err != nil {
				return err
			}
			s.wait = 0
		}
		req := s.request()
		cctx, cancel := context.WithCancelCause(s.life)
		s.cmu.Lock()
		s.ccancel = cancel
		s.cmu.Unlock()
		w := startWatchdog(&s.progress, s.cfg.idle, cancel)
		s.progress.Add(1) // the handshake counts as waiting
		c, err := s.tr.connect(cctx, req)
		s.progress.Add(1)
		if err != nil {
			w.stop()
			if cctx.Err() != nil {
				err = causeOr(cctx, err)
			}
			cancel(nil)
			if stop := s.stopCause(ctx, err); stop != nil {
				return stop
			}
			if errors.Is(err, ErrFatal) {
				return err
			}
			s.fails++
			s.st.failures.Add(1)
			s.st.setLastError(err)
			if s.cfg.retryLimit > 0 && s.fails >= s.cfg.retryLimit {
				return fmt.Errorf("firehose: giving up after %d failed attempts: %w", s.fails, err)
			}
			s.wait = s.delay(err)
			s.cfg.logger.Warn("firehose: connect failed", "range", s.rng.String(), "transport", string(s.cfg.transport), "err", err, "retry_in", s.wait)
			s.hookError(err)
			continue
		}
		s.c, s.cctx, s.watch = c, cctx, w
		s.connected(req, c)
	}
	return nil
}

// request computes what the next connection asks for: the watermark minus the
// margin; before the first event, the configured start, or the moment a live
// start first connected minus the margin; never older than the replay window.
func (s *stream) request() request {
	req := request{rng: s.rng, replicaID: s.cfg.replicaID, hasReplica: s.cfg.hasReplica}
	switch {
	case s.wm > 0:
		req.from = s.wm - s.margin.Milliseconds()
	case s.start > 0:
		req.from = s.start
	case s.liveAt > 0:
		req.from = s.liveAt
	}
	if req.from == 0 {
		return req
	}
	if req.from < 1 {
		req.from = 1 // 0 would mean "live only"
	}
	oldest := s.cfg.now().Add(-s.cfg.window).UnixMilli()
	if req.from < oldest {
		gap := time.Duration(oldest-req.from) * time.Millisecond
		req.from = oldest
		s.st.gaps.Add(1)
		err := fmt.Errorf("%w: resume point clamped by %v to %s", ErrGap, gap.Round(time.Millisecond), time.UnixMilli(oldest).UTC().Format(time.RFC3339))
		s.st.setLastError(err)
		s.cfg.logger.Error("firehose: possible gap", "range", s.rng.String(), "clamped_by", gap, "err", err)
		s.hookError(err)
	}
	return req
}

func (s *stream) connected(req request, c conn) {
	now := s.cfg.now()
	if req.from == 0 && s.wm == 0 && s.liveAt == 0 {
		// A live start: if this connection drops before its first event, the
		// next one must replay from here, not skip the gap.
		at := c.serverTime()
		if at.IsZero() {
			at = now
		}
		s.liveAt = max(at.Add(-s.cfg.margin).UnixMilli(), 1)
	}
	s.newHere, s.dupsHere, s.lastDup = 0, 0, false
	s.replayCheck = s.wm > 0 && req.from > 0
	s.replayFloor = s.wm + s.cfg.margin.Milliseconds()
	s.st.connects.Add(1)
	s.st.connected.Store(true)
	s.st.resumedFrom.Store(req.from)
	info := ConnectInfo{Range: s.rng, Transport: s.cfg.transport, From: req.from, Reconnect: s.ended != nil, Cause: s.ended}
	if s.ended != nil {
		info.Downtime = now.Sub(s.endedAt)
		s.st.downtime.Store(int64(info.Downtime))
	}
	s.cfg.logger.Info("firehose: connected", "range", s.rng.String(), "transport", string(s.cfg.transport), "from", req.from, "reconnect", info.Reconnect, "downtime", info.Downtime, "cause", s.ended)
	if s.cfg.onConnect != nil {
		s.cfg.onConnect(info)
	}
}

// endConn handles the end of a connection: it returns non-nil when the stream
// must stop, else it schedules the reconnect.
func (s *stream) endConn(ctx context.Context, err error) error {
	if s.cctx.Err() != nil {
		err = causeOr(s.cctx, err)
	}
	s.dropConn()
	if stop := s.stopCause(ctx, err); stop != nil {
		return stop
	}
	if errors.Is(err, ErrFatal) {
		return err
	}
	kind := classify(err)
	s.st.countReconnect(kind)
	shrunk := s.adaptMargin()
	s.st.setLastError(err)
	s.ended, s.endedAt = err, s.cfg.now()
	switch {
	case kind == CauseRateLimited:
		s.wait = s.delay(err) // asked to wait: never at once, even after progress
	case kind == CauseIdle || kind == CauseCanceled || s.newHere > 0 || shrunk:
		s.wait = 0 // the first retry after a working connection goes at once
	default:
		s.wait = s.delay(err)
	}
	s.cfg.logger.Warn("firehose: connection lost", "range", s.rng.String(), "cause", string(kind), "err", err, "events_on_conn", s.newHere, "retry_in", s.wait)
	s.hookError(err)
	return nil
}

// adaptMargin keeps a stream whose connections are cut more often than the
// replay margin's worth of events from replaying the same duplicates forever.
// A connection that ended inside the replay (its last frame a duplicate, no
// new event and no keep-alive after the duplicates) halves the margin for the
// next request: a livelock would lose everything, a smaller margin risks only
// events more out of order than it, and the change is reported as a possible
// gap. A connection that delivers new events doubles it back, up to the
// configured one. It reports whether it just shrank the margin.
func (s *stream) adaptMargin() bool {
	switch {
	case s.newHere == 0 && s.lastDup && s.margin > 0:
		s.margin /= 2
		if s.margin < 10*time.Millisecond {
			s.margin = 0
		}
		s.st.gaps.Add(1)
		err := fmt.Errorf("%w: connections end inside the replay (%d duplicates, no new event): replay margin reduced to %v", ErrGap, s.dupsHere, s.margin)
		s.st.setLastError(err)
		s.cfg.logger.Warn("firehose: replay margin reduced", "range", s.rng.String(), "margin", s.margin, "err", err)
		s.hookError(err)
		return true
	case s.newHere > 0 && s.margin < s.cfg.margin:
		s.margin = min(s.cfg.margin, max(2*s.margin, 100*time.Millisecond))
	}
	return false
}

func (s *stream) dropConn() {
	if s.c == nil {
		return
	}
	s.watch.stop()
	s.c.close()
	s.cmu.Lock()
	s.ccancel(nil)
	s.ccancel = nil
	s.cmu.Unlock()
	s.c, s.cctx, s.watch = nil, nil, nil
	s.st.connected.Store(false)
}

// stopCause tells the engine's own cancellations apart: the caller's ctx
// ending and Close stop the stream, whatever error the transport reported.
func (s *stream) stopCause(ctx context.Context, err error) error {
	if e := ctx.Err(); e != nil {
		return e
	}
	if s.life.Err() != nil {
		return ErrClosed
	}
	// errCallerDone with this call's ctx alive: a ctx from an earlier call
	// ended mid-read. Reconnect.
	return nil
}

// delay is the wait before the next attempt: Retry-After on a 429 (capped),
// else exponential backoff with jitter, never less than the floor after a 429.
func (s *stream) delay(err error) time.Duration {
	d := s.bo.NextBackOff()
	var se *StatusError
	if errors.As(err, &se) && se.Code == 429 {
		if se.retryAfterSet {
			// The server said how long; never less than the backoff, so a
			// "Retry-After: 0" repeated cannot turn into a hot loop.
			return min(max(se.RetryAfter, d), DefaultRetryAfterCap)
		}
		return max(d, DefaultRateLimitFloor)
	}
	if errors.Is(err, errTryLater) {
		return max(d, DefaultRateLimitFloor)
	}
	return d
}

// sleep waits d unless ctx ends or the stream is closed.
func (s *stream) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.life.Done():
		return ErrClosed
	}
}

func (s *stream) fail(err error) error {
	if errors.Is(err, ErrFatal) {
		s.cfg.logger.Error("firehose: fatal", "range", s.rng.String(), "err", err)
		s.err = err
		s.dropConn()
		s.st.setLastError(err)
		return err
	}
	// ctx errors and ErrClosed: the caller may call Next again with a fresh
	// ctx (not after Close, which sets s.err itself).
	s.dropConn()
	return err
}

// watchCaller arranges for ctx's end to interrupt a blocked read. The
// registration is kept across calls with the same ctx, so a loop calling
// Next(ctx) pays for it once.
func (s *stream) watchCaller(ctx context.Context) {
	if ctx == s.ctxFor {
		return
	}
	if s.ctxStop != nil {
		s.ctxStop()
		s.ctxStop = nil
	}
	s.ctxFor = ctx
	if ctx.Done() == nil {
		return
	}
	s.ctxStop = context.AfterFunc(ctx, func() { s.interrupt(errCallerDone) })
}

func (s *stream) interrupt(cause error) {
	s.cmu.Lock()
	if s.ccancel != nil {
		s.ccancel(cause)
	}
	s.cmu.Unlock()
}

func (s *stream) hookError(err error) {
	if s.cfg.onError != nil {
		s.cfg.onError(err)
	}
}

func causeOr(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && c != context.Canceled {
		return c
	}
	return err
}

// errTryLater marks a close that asks for the same patience as a 429
// (WebSocket close 1013).
var errTryLater = errors.New("firehose: server asked to try again later")

// Cause names why a connection ended, for Stats and logs.
type Cause string

// The causes the engine tells apart.
const (
	CauseEOF         Cause = "eof"          // the server ended the stream cleanly
	CauseNetwork     Cause = "network"      // a reset, a cut mid-line, a dial error
	CauseIdle        Cause = "idle"         // silence past the idle timeout
	CauseRateLimited Cause = "rate_limited" // 429, RESOURCE_EXHAUSTED, close 1013
	CauseServer      Cause = "server"       // 5xx, UNAVAILABLE, INTERNAL, other statuses
	CauseCanceled    Cause = "canceled"     // an earlier call's ctx ended mid-read
)

func classify(err error) Cause {
	var se *StatusError
	switch {
	case errors.Is(err, ErrIdleTimeout):
		return CauseIdle
	case errors.Is(err, errCallerDone):
		return CauseCanceled
	case errors.As(err, &se):
		if se.Code == 429 {
			return CauseRateLimited
		}
		return CauseServer
	case errors.Is(err, errTryLater):
		return CauseRateLimited
	case errors.Is(err, io.EOF):
		return CauseEOF
	}
	return CauseNetwork
}

// ConnectInfo describes one successful connection, for WithConnectHook.
type ConnectInfo struct {
	Range     Range
	Transport Transport
	From      int64         // the fromTimestamp sent (epoch ms; 0: live)
	Reconnect bool          // false for the stream's first connection
	Cause     error         // why the previous connection ended (nil for the first)
	Downtime  time.Duration // from the previous connection's end to this one
}

// watchdog drops a connection that stays silent past the idle timeout while
// the engine waits for it. It never resets a timer per frame: it samples a
// progress counter the engine bumps around each read (odd while waiting), so
// the time the caller holds an event never counts as silence.
type watchdog struct {
	mu      sync.Mutex
	t       *time.Timer
	p       *atomic.Uint64
	last    uint64
	quiet   int
	stopped bool
	cancel  context.CancelCauseFunc
}

const watchdogTicks = 4 // samples per idle timeout

func startWatchdog(p *atomic.Uint64, idle time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{p: p, last: p.Load(), cancel: cancel}
	every := max(idle/watchdogTicks, time.Millisecond)
	w.t = time.AfterFunc(every, func() { w.sample(every) })
	return w
}

func (w *watchdog) sample(every time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	v := w.p.Load()
	switch {
	case v != w.last || v&1 == 0:
		w.last, w.quiet = v, 0
	default:
		w.quiet++
		if w.quiet >= watchdogTicks {
			w.stopped = true
			w.cancel(ErrIdleTimeout)
			return
		}
	}
	w.t.Reset(every)
}

func (w *watchdog) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.stopped = true
	w.t.Stop()
	w.mu.Unlock()
}
