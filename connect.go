package firehose

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// The life of one connection: open it (waiting out the backoff), note what it
// resumed from, end it and decide how long to wait before the next.

// connection is the open connection and what the engine learns from it.
type connection struct {
	c       Conn // nil when none
	ctx     context.Context
	watch   *watchdog
	newHere int  // new events delivered on it
	dups    int  // duplicates received on it
	lastDup bool // its latest frame was a duplicate: it ended inside the replay
	opened  time.Time
	// futureSeen: an event from the future was reported on it already.
	futureSeen bool
}

// retryState paces the attempts.
type retryState struct {
	bo      *backoff.ExponentialBackOff
	wait    time.Duration // before the next attempt
	fails   int           // consecutive failed attempts
	ended   error         // why the previous connection ended
	endedAt time.Time
	lastTry time.Time // when the latest attempt started
	lastErr error     // the latest failed attempt's error, while fails > 0
}

func newRetryState(cfg *config) retryState {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = cfg.backoffInitial
	bo.MaxInterval = cfg.backoffMax
	bo.MaxElapsedTime = 0 // never give up by itself (v4's default stops after 15 min)
	bo.Reset()
	return retryState{bo: bo}
}

// notConnected words a stop (ctx done, Close) that came while the stream was
// failing to connect: the caller learns why it never got a connection.
func (s *stream) notConnected(stop error) error {
	if s.retry.fails == 0 || s.retry.lastErr == nil {
		return stop
	}
	return &ConnectError{Attempts: s.retry.fails, Last: s.redactErr(s.retry.lastErr), Err: stop}
}

// ensureConn connects if there is no connection, waiting out the backoff
// first; it returns only a connection or an error that ends the stream.
func (s *stream) ensureConn(ctx context.Context) error {
	for s.cur.c == nil {
		// Never two attempts closer than the floor, whatever ended the last
		// connection: a server that ends every connection at once must not
		// get a connection per round trip.
		if !s.retry.lastTry.IsZero() {
			s.retry.wait = max(s.retry.wait, s.cfg.backoffInitial-s.cfg.now().Sub(s.retry.lastTry))
		}
		if s.retry.wait > 0 {
			if s.ckpt != nil {
				s.ckpt.beforeSleep(s)
			}
			s.st.setState(StateBackingOff, s.cfg.now().Add(s.retry.wait))
			s.park()
			err := s.sleep(ctx, s.retry.wait)
			s.unpark()
			if err != nil {
				return s.notConnected(err)
			}
			s.retry.wait = 0
		}
		s.retry.lastTry = s.cfg.now()
		req := s.request()
		cctx, cancel := context.WithCancelCause(s.life)
		s.cmu.Lock()
		s.ccancel = cancel
		s.cmu.Unlock()
		w := startWatchdog(&s.progress, s.cfg.idle, cancel)
		s.st.setState(StateConnecting, time.Time{})
		s.park()
		s.progress.Add(1) // the handshake counts as waiting
		c, err := s.src.Connect(cctx, req)
		s.progress.Add(1)
		s.unpark()
		if err != nil {
			w.stop()
			if cctx.Err() != nil {
				err = causeOr(cctx, err)
			}
			cancel(nil)
			if stop := s.stopCause(ctx, err); stop != nil {
				return s.notConnected(stop)
			}
			if isFatal(err) {
				return err
			}
			s.retry.fails++
			s.retry.lastErr = err
			s.st.failures.Add(1)
			s.st.setLastError(s.redactString(err.Error()))
			if s.cfg.retryLimit > 0 && s.retry.fails >= s.cfg.retryLimit {
				return &ConnectError{Attempts: s.retry.fails, Last: s.redactErr(err), Err: ErrRetryLimit}
			}
			s.retry.wait = s.delay(err)
			s.cfg.logger.Warn("firehose: connect failed", "range", s.rng.String(), "source", s.spec.Name, "err", s.redact(err), "retry_in", s.retry.wait)
			s.hookError(err)
			continue
		}
		s.cur = connection{c: c, ctx: cctx, watch: w, opened: s.cfg.now()}
		s.connected(req, c)
	}
	return nil
}

// connected notes a new connection: what it resumed from, the downtime
// before it, and (for a source that cannot replay) the gap it leaves.
func (s *stream) connected(req ConnectRequest, c Conn) {
	now := s.cfg.now()
	s.noteLiveStart(req, c, now)
	s.replay.check = s.spec.Resume == ResumeTimestamp && s.pos.wm > 0 && req.From > 0
	s.replay.floor = s.pos.wm + s.cfg.margin.Milliseconds()
	s.replay.keepAlives = 0
	s.st.connects.Add(1)
	s.st.connected.Store(true)
	s.st.setState(StateConnected, time.Time{})
	s.st.resumedFrom.Store(req.From)
	info := ConnectInfo{Range: s.rng, Source: s.spec.Name, Transport: Transport(s.spec.Name), From: req.From, Reconnect: s.retry.ended != nil, Cause: s.retry.ended}
	if s.retry.ended != nil {
		info.Downtime = now.Sub(s.retry.endedAt)
		s.st.downtime.Store(int64(info.Downtime))
	}
	s.cfg.logger.Info("firehose: connected", "range", s.rng.String(), "source", s.spec.Name, "from", req.From, "reconnect", info.Reconnect, "downtime", info.Downtime, "cause", s.redact(s.retry.ended))
	for _, fn := range s.cfg.onConnect {
		fn(info)
	}
	if info.Reconnect && s.spec.Resume == ResumeNone {
		s.gap(&GapError{Reason: GapNoReplay, Range: s.rng, From: s.retry.endedAt.UnixMilli(), ResumedAt: now.UnixMilli(), Downtime: info.Downtime,
			Detail: "the source cannot replay: events sent while disconnected are lost"})
	}
}

// endConn handles the end of a connection: it returns non-nil when the stream
// must stop, else it schedules the reconnect.
func (s *stream) endConn(ctx context.Context, err error) error {
	if s.cur.ctx.Err() != nil {
		err = causeOr(s.cur.ctx, err)
	}
	ended := s.cur
	newHere := ended.newHere
	lasted := s.cfg.now().Sub(ended.opened)
	s.dropConn()
	if stop := s.stopCause(ctx, err); stop != nil {
		return stop
	}
	if isFatal(err) {
		return err
	}
	if stop := s.hardCap(&ended, err); stop != nil {
		return stop
	}
	shrunk := s.adaptMargin(&ended)
	kind := classify(err)
	s.st.countReconnect(kind)
	s.st.setLastError(s.redactString(err.Error()))
	s.retry.ended, s.retry.endedAt = err, s.cfg.now()
	healthy := newHere > 0 && lasted >= DefaultHealthyAfter
	if healthy {
		s.retry.bo.Reset() // a connection that worked for a while starts the backoff over
	}
	switch {
	case kind == CauseRateLimited:
		s.retry.wait = s.delay(err) // asked to wait: never at once, even after progress
	case kind == CauseIdle || kind == CauseCanceled || healthy || shrunk:
		s.retry.wait = 0 // at once (the floor between attempts still applies)
	case newHere > 0:
		// Progress on a short connection: the backoff grows (a server that
		// ends each connection after one event must not get a hot loop), but
		// a stream making progress never waits long.
		s.retry.wait = min(s.delay(err), DefaultProgressWaitCap)
	default:
		s.retry.wait = s.delay(err)
	}
	s.cfg.logger.Warn("firehose: connection lost", "range", s.rng.String(), "cause", string(kind), "err", s.redact(err), "events_on_conn", newHere, "retry_in", s.retry.wait)
	s.hookError(err)
	return nil
}

func (s *stream) dropConn() {
	if s.cur.c == nil {
		return
	}
	s.cur.watch.stop()
	if err := s.cur.c.Close(); err != nil {
		s.cfg.logger.Debug("firehose: closing the connection", "range", s.rng.String(), "err", s.redact(err))
	}
	s.cmu.Lock()
	s.ccancel(nil)
	s.ccancel = nil
	s.cmu.Unlock()
	s.cur = connection{}
	s.st.connected.Store(false)
	s.st.setState(StateIdle, time.Time{})
}

// stopCause tells the engine's own cancellations apart: the caller's ctx
// ending and Close stop the stream, whatever error the source reported.
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
	d := s.retry.bo.NextBackOff()
	var se *StatusError
	if errors.As(err, &se) {
		switch {
		case se.Code == 429:
			// Never less than the floor a 429 without the header gets, so a
			// "Retry-After: 0" (or a date in the past) cannot make a hot loop.
			return min(max(se.RetryAfter, d, DefaultRateLimitFloor), DefaultRetryAfterCap)
		case se.retryAfterSet || se.RetryAfter > 0:
			// A 503 that says how long (a source may set RetryAfter itself):
			// as long as it says, capped.
			return min(max(se.RetryAfter, d), DefaultRetryAfterCap)
		}
	}
	if errors.Is(err, ErrTryLater) {
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

func causeOr(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && c != context.Canceled {
		return c
	}
	return err
}
