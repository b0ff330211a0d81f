package firehose

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

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
	// (errors.Is(err, ErrFatal)), ctx's error, or ErrClosed — wrapped in a
	// *ConnectError, with the last attempt's error, when it stopped while
	// failing to connect. Cancelling ctx
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

// stream is the engine: one reconnect loop for one receiver, whatever the
// source. It reads on the caller's goroutine: no channel hop per event. The
// life of a connection is in connect.go, where to resume in resume.go, the
// idle clock in watchdog.go.
type stream struct {
	cfg  *config
	spec *SourceSpec
	src  Source
	rng  Range
	win  *dedupe.Window
	st   *counters
	life context.Context // ends with Close
	kill context.CancelCauseFunc

	mu     sync.Mutex // held by Next for its whole call; Close takes it to wait
	cur    connection // the open connection, if any
	f      Frame      // the frame just read
	pos    position
	retry  retryState
	replay replayState
	caller callerWatch
	err    error // sticky: the error that ended the stream

	cmu     sync.Mutex // guards ccancel against interrupts from other goroutines
	ccancel context.CancelCauseFunc

	progress  atomic.Uint64 // odd while waiting for bytes; see watchdog
	closeOnce sync.Once
	closeErr  error
	ckpt      *checkpointState
	loaded    bool           // the checkpoint (if any) has been applied
	bjson     borrowedRender // RunBorrowed's JSON of a gRPC frame
}

// position is where the stream stands: what the caller holds and has
// finished, and where a first connection starts.
type position struct {
	held   bool  // the caller holds an event not yet finished
	heldTS int64 // its timestamp
	wm     int64 // watermark: the highest timestamp among finished events (0: none)
	start  int64 // the configured start or the checkpoint's (0: live)
	liveAt int64 // resume point of a live start before its first event
	floor  int64 // events older than this are dropped: the configured start (0: none)
	limit  int64 // the latest bound of the clock plus the skew allowance seen
}

func newStream(cfg *config, spec *SourceSpec, src Source, rng Range, st *counters) *stream {
	life, kill := context.WithCancelCause(context.Background())
	s := &stream{
		cfg: cfg, spec: spec, src: src, rng: rng, st: st,
		win:  dedupe.New(cfg.dedupeCap),
		life: life, kill: kill,
		pos:    position{start: cfg.start, floor: cfg.start},
		retry:  newRetryState(cfg),
		replay: replayState{margin: cfg.margin},
	}
	if st.rng != rng { // counters made outside Client.newStream (tests)
		st.rng = rng
	}
	return s
}

// Next implements Stream.
func (s *stream) Next(ctx context.Context) (*Event, error) {
	return s.step(ctx, true)
}

// step is the one "lock, advance, deliver" step of Next and RunBorrowed: it
// finishes the event the caller held, reads up to the next new one and marks
// it held. own makes the owned Event (RunBorrowed lends the frame instead).
func (s *stream) step(ctx context.Context, own bool) (*Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.advance(ctx); err != nil {
		return nil, err
	}
	var ev *Event
	if own {
		ev = s.event()
	}
	s.delivered()
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
		s.f.cisco.format = formatFrame // a Source's Next fills only the public fields
		s.park()
		s.progress.Add(1) // waiting for bytes: the idle clock runs
		err := s.cur.c.Next(&s.f)
		s.progress.Add(1) // not waiting: it stops
		s.unpark()
		if err == nil {
			if s.admit() {
				return nil
			}
			continue
		}
		if s.frameTrouble(err) {
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
		s.caller.reset()
		s.st.open.Store(false)
		s.st.setState(StateStopped, time.Time{})
		if err := s.src.Close(); err != nil && s.closeErr == nil {
			s.cfg.logger.Warn("firehose: source close", "range", s.rng.String(), "err", s.redact(err))
		}
	})
	return s.closeErr
}

// Stats implements Stream.
func (s *stream) Stats() Stats { return s.st.snapshot(s.cfg.now()) }

// finish marks the event the caller holds as processed: the watermark may
// move past it. Keep-alives, duplicates and malformed lines never get here.
func (s *stream) finish() {
	if !s.pos.held {
		return
	}
	s.pos.held = false
	ts := s.pos.heldTS
	if ts <= s.pos.wm {
		return
	}
	if ts > s.pos.limit {
		// Past the last known bound of the clock: look again (rarely: the
		// bound is now plus the skew allowance, renewed only when passed).
		s.pos.limit = s.cfg.now().Add(s.cfg.skew).UnixMilli()
		if ts > s.pos.limit {
			s.futureEvent(ts)
			ts = s.pos.limit
			if ts <= s.pos.wm {
				return
			}
		}
	}
	s.pos.wm = ts
	s.st.watermark.Store(ts)
}

// futureEvent reports an event dated past the local clock plus the skew
// allowance: it was delivered, but the watermark stops at the bound, or one
// hostile timestamp (the year 2100) would make every later resume point ask
// for nothing. Once per connection.
func (s *stream) futureEvent(ts int64) {
	if s.cur.futureSeen {
		return
	}
	s.cur.futureSeen = true
	s.gap(&GapError{Reason: GapFuture, Range: s.rng, From: s.pos.limit, ResumedAt: s.pos.limit,
		Detail: fmt.Sprintf("event %q is dated %s, past the local clock plus %v: the resume point stays at the clock", string(s.f.ID), formatMillis(ts), s.cfg.skew)})
}

// abandon records that the caller failed on the event it holds: it is not
// finished, and it must never be saved as seen.
func (s *stream) abandon(id []byte, ts int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pos.held = false
	if s.ckpt != nil {
		s.ckpt.skip = dedupe.Fingerprint(id, ts)
	}
}

// admit filters the frame just read: liveness and control frames and
// duplicates are counted and dropped; anything else is new.
func (s *stream) admit() bool {
	f := &s.f
	switch f.Kind {
	case FrameEvent:
	case FrameLiveness:
		s.st.keepAlives.Add(1)
		s.cur.lastDup = false // the server has nothing more to replay
		s.keepAliveInReplay()
		if s.ckpt != nil {
			s.ckpt.tick(s) // a quiet stream still saves what was finished
		}
		return false
	default:
		return false
	}
	if len(f.ID) == 0 {
		s.dropped(&FrameError{Reason: DropMalformed, Size: len(f.Raw), Err: errors.New("event frame without an id")})
		return false
	}
	if f.Timestamp < s.pos.floor {
		// Older than the configured start: a replay margin, or the duplicate
		// window's memory, must not bring back what the user asked to skip.
		s.st.beforeStart.Add(1)
		return false
	}
	if s.win.Seen(dedupe.Fingerprint(f.ID, f.Timestamp), f.Timestamp) {
		s.st.duplicates.Add(1)
		s.replay.check = false // the server is replaying what we asked for
		s.cur.dups++
		s.cur.lastDup = true
		return false
	}
	if s.replay.check && f.Timestamp > s.replay.floor {
		s.replay.check = false
		s.replayMissed(f.Timestamp)
	}
	return true
}

// event makes the owned Event for the admitted frame.
func (s *stream) event() *Event {
	if s.f.cisco.format == formatProto {
		return newProtoEvent(&s.f)
	}
	return newFrameEvent(&s.f)
}

// delivered marks the admitted frame as held by the caller.
func (s *stream) delivered() {
	ts := s.f.Timestamp
	s.pos.held, s.pos.heldTS = true, ts
	s.st.events.Add(1)
	s.st.bytes.Add(int64(len(s.f.Raw)))
	s.st.lastTS.Store(ts)
	slot := len(documentedTypes) // TypeOther
	if s.f.cisco.format != formatFrame {
		i, known := typeIndex(s.f.Type)
		if known {
			slot = i
		}
		if !known || i >= numberedTypes {
			s.st.unknown.Add(1)
		}
	}
	s.st.byType[slot].Add(1)
	if s.cur.newHere == 0 {
		s.retry.fails, s.retry.lastErr = 0, nil
	}
	s.cur.newHere++
	s.cur.lastDup = false
}

// frameTrouble handles the errors of Next that concern one frame or report a
// gap; the connection goes on. It reports whether err was one of them.
func (s *stream) frameTrouble(err error) bool {
	var fe *FrameError
	if errors.As(err, &fe) {
		s.dropped(fe)
		return true
	}
	var ge *GapError
	if errors.As(err, &ge) {
		if ge.Range == (Range{}) {
			ge.Range = s.rng
		}
		s.gap(ge)
		return true
	}
	return false
}

func (s *stream) dropped(fe *FrameError) {
	switch fe.Reason {
	case DropOversized:
		s.st.oversized.Add(1)
	case DropTorn:
		s.st.torn.Add(1)
	default:
		s.st.malformed.Add(1)
	}
	s.cfg.logger.Warn("firehose: frame dropped", "range", s.rng.String(), "kind", fe.Reason.String(), "size", fe.Size, "err", s.redact(fe.Err))
	s.hookError(fe)
}

// gap reports a possible gap everywhere a user looks.
func (s *stream) gap(ge *GapError) {
	s.st.countGap(ge.Reason)
	s.st.setLastError(s.redactString(ge.Error()))
	s.cfg.logger.Error("firehose: possible gap", "range", s.rng.String(), "reason", string(ge.Reason), "err", ge)
	s.hookError(ge)
}

func (s *stream) fail(err error) error {
	if isFatal(err) {
		err = s.redactErr(err)
		s.cfg.logger.Error("firehose: fatal", "range", s.rng.String(), "err", err)
		s.err = err
		s.dropConn()
		s.st.setState(StateStopped, time.Time{})
		s.st.setLastError(err.Error())
		return err
	}
	// ctx errors and ErrClosed: the caller may call Next again with a fresh
	// ctx (not after Close, which sets s.err itself).
	s.dropConn()
	return err
}

func (s *stream) hookError(err error) {
	if len(s.cfg.onError) == 0 {
		return
	}
	err = s.redactErr(err)
	for _, fn := range s.cfg.onError {
		fn(err)
	}
}

// callerWatch arranges for the caller's ctx to interrupt a blocked read. The
// registration is kept across calls with the same ctx, so a loop calling
// Next(ctx) pays for it once.
type callerWatch struct {
	ctx  context.Context // the ctx whose cancellation is being watched
	stop func() bool
}

func (w *callerWatch) reset() {
	if w.stop != nil {
		w.stop()
	}
	w.ctx, w.stop = nil, nil
}

func (s *stream) watchCaller(ctx context.Context) {
	if ctx == s.caller.ctx {
		return
	}
	s.caller.reset()
	s.caller.ctx = ctx
	if ctx.Done() == nil {
		return
	}
	s.caller.stop = context.AfterFunc(ctx, func() { s.interrupt(errCallerDone) })
}

func (s *stream) interrupt(cause error) {
	s.cmu.Lock()
	if s.ccancel != nil {
		s.ccancel(cause)
	}
	s.cmu.Unlock()
}
