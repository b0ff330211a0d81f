package firehose

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A stream's side of checkpoints: load before the first connection, save
// every interval and on Close.
//
// A snapshot must never run ahead of what the caller has finished, so it is
// taken only when no event is held: between two events on the delivery
// goroutine (tick), or by the interval's timer while the delivery goroutine
// is parked in a wait — a silent connection, a handshake, a backoff sleep —
// so that a stalled or reconnecting stream still saves about every interval.
// The position lock (pmu) makes the two exclusive: the delivery goroutine
// holds it whenever it is not parked, the timer only takes it with TryLock.

// checkpointState is one stream's part.
type checkpointState struct {
	shared *checkpoints
	live   []Range // every range this process receives
	due    atomic.Bool
	timer  *time.Timer
	skip   uint64 // the fingerprint of an event a handler failed on: never saved as seen

	closed atomic.Bool // the stream saved its final checkpoint: nothing more to ask of it
	pmu    sync.Mutex  // the position lock: see above
	saved  int64       // the watermark of the last save
	cursor []byte      // the source's cursor as of the last tick (a parked save reuses it)
}

func (s *stream) attachCheckpoints(shared *checkpoints, live []Range) {
	if shared == nil {
		return
	}
	cs := &checkpointState{shared: shared, live: live}
	cs.pmu.Lock() // the stream starts active
	cs.timer = time.AfterFunc(shared.every, func() {
		cs.due.Store(true)
		cs.parkedSave(s)
	})
	s.ckpt = cs
}

// park releases the position lock before a wait on the delivery goroutine
// (a read, a handshake, a backoff sleep); unpark takes it back after.
func (s *stream) park() {
	if s.ckpt != nil {
		s.ckpt.pmu.Unlock()
	}
}

func (s *stream) unpark() {
	if s.ckpt != nil {
		s.ckpt.pmu.Lock()
	}
}

// loadCheckpoint applies the checkpoint before the first connection.
func (s *stream) loadCheckpoint(ctx context.Context) error {
	if s.ckpt == nil || s.loaded {
		return nil
	}
	cp, err := s.ckpt.shared.load(ctx)
	if err != nil {
		return err
	}
	s.loaded = true
	if cp == nil {
		return nil
	}
	rc, found, covered := cp.seed(s.rng)
	if !found {
		return nil
	}
	for _, e := range rc.Seen {
		s.win.Add(e.Fingerprint, e.Timestamp)
	}
	if cur, ok := s.src.(Cursor); ok && rc.Cursor != nil {
		if err := cur.LoadCursor(rc.Cursor); err != nil {
			return &checkpointError{err: fmt.Errorf("range %s: the source's cursor: %w", s.rng, err)}
		}
		s.ckpt.cursor = rc.Cursor
	}
	if limit := s.cfg.now().Add(s.cfg.skew).UnixMilli(); rc.Watermark > limit {
		// A watermark from the future (a hostile event saved before this
		// release, a clock set wrong) would resume past everything to come.
		s.gap(&GapError{Reason: GapFuture, Range: s.rng, From: limit, ResumedAt: limit,
			Detail: fmt.Sprintf("the checkpoint's watermark %s lies in the future: resuming from now", formatMillis(rc.Watermark))})
		rc.Watermark = limit
	}
	if !covered {
		// Some partitions of this range never had a position: resume all of it
		// from the older of the configured start and the checkpoint's, so
		// nothing of those partitions is skipped (live would skip them).
		from := rc.Watermark - s.cfg.margin.Milliseconds()
		if s.pos.start > 0 {
			from = min(from, s.pos.start)
		}
		s.pos.start = max(from, 1)
		s.cfg.logger.Warn("firehose: checkpoint covers only part of this range", "range", s.rng.String(), "from", s.pos.start)
		return nil
	}
	s.pos.wm = rc.Watermark
	s.ckpt.saved = rc.Watermark
	s.st.watermark.Store(s.pos.wm)
	s.cfg.logger.Info("firehose: resuming from checkpoint", "range", s.rng.String(), "watermark", rc.Watermark, "seen", len(rc.Seen))
	return nil
}

// tick saves when the interval has passed. Called on the delivery goroutine
// between two events.
func (c *checkpointState) tick(s *stream) {
	if !c.due.Load() {
		return
	}
	c.due.Store(false)
	c.report(s, c.saveNow(s))
	c.timer.Reset(c.shared.every)
}

// parkedSave is the timer's save while the delivery goroutine waits.
func (c *checkpointState) parkedSave(s *stream) {
	if !c.pmu.TryLock() {
		return // the delivery goroutine is active: its tick saves
	}
	defer c.pmu.Unlock()
	if !c.due.Load() || s.pos.held {
		return
	}
	c.due.Store(false)
	if c.position(s) != 0 {
		c.report(s, c.save(s, c.cursor))
	}
	c.timer.Reset(c.shared.every)
}

// beforeSleep saves finished progress before a backoff sleep, so a kill
// during a long wait repeats no more than it would have otherwise.
func (c *checkpointState) beforeSleep(s *stream) {
	if p := c.position(s); p != 0 && p != c.saved {
		c.report(s, c.saveNow(s))
	}
}

func (c *checkpointState) report(s *stream, err error) {
	if err == nil {
		return
	}
	s.st.checkpointFailures.Add(1)
	s.st.setLastError(s.redactString(err.Error()))
	s.cfg.logger.Error("firehose: checkpoint not saved", "range", s.rng.String(), "err", s.redact(err))
	s.hookError(err)
}

// final saves on Close.
func (c *checkpointState) final(s *stream) error {
	c.closed.Store(true)
	c.timer.Stop()
	if !s.loaded || c.position(s) == 0 {
		return nil // nothing was resumed, started or finished: keep what is there
	}
	return c.saveNow(s)
}

// position is the watermark to save: the newest finished event's timestamp;
// before the first one, the instant a live start connected (its resume
// point plus the margin), so a crash right after a quiet live start resumes
// from there instead of from live; 0 when there is nothing to save.
func (c *checkpointState) position(s *stream) int64 {
	if s.pos.wm > 0 {
		return s.pos.wm
	}
	if s.pos.liveAt > 0 {
		return s.pos.liveAt + s.cfg.margin.Milliseconds()
	}
	if _, ok := s.src.(Cursor); ok && c.cursor != nil {
		return -1 // only the source's cursor: a position all the same
	}
	return 0
}

// saveNow saves on the delivery goroutine, with the source's cursor as of now.
func (c *checkpointState) saveNow(s *stream) error {
	if cur, ok := s.src.(Cursor); ok {
		c.cursor = cur.SaveCursor()
	}
	return c.save(s, c.cursor)
}

func (c *checkpointState) save(s *stream, cursor []byte) error {
	if c.shared.preSave != nil {
		if err := c.shared.preSave(); err != nil {
			return fmt.Errorf("firehose: checkpoint not saved: pre-save hook: %w", err)
		}
	}
	wm := max(c.position(s), 0)
	rc := RangeCheckpoint{Range: s.rng, Watermark: wm, Cursor: cursor}
	if wm > 0 {
		since := wm - s.cfg.margin.Milliseconds()
		s.win.Recent(since, func(fp uint64, ts int64) bool {
			if fp != c.skip {
				rc.Seen = append(rc.Seen, SeenEvent{Fingerprint: fp, Timestamp: ts})
			}
			return true
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.shared.save(ctx, rc, c.live); err != nil {
		return err
	}
	c.saved = wm
	return nil
}
