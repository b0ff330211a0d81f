package firehose

import (
	"fmt"
	"time"
)

// Where a connection resumes. For a ResumeTimestamp source (Cisco) the
// engine computes the resume point, checks that the replay starts where it
// asked and adapts the replay margin; for the other policies it sends no
// resume point.

// replayState is the timestamp replay in force.
type replayState struct {
	// margin is the replay margin in force: the configured one, halved while
	// connections end inside the replay (see adaptMargin).
	margin time.Duration
	// After a reconnect with a watermark, the replay must bring back finished
	// events first; a new event past floor before any of them means the
	// server could not replay from where we asked.
	check bool
	floor int64
}

// request computes what the next connection asks for: the watermark minus the
// margin; before the first event, the configured start, or the moment a live
// start first connected minus the margin; never older than the replay window.
func (s *stream) request() ConnectRequest {
	req := ConnectRequest{Range: s.rng, Reconnect: s.retry.ended != nil || s.st.connects.Load() > 0, Alive: s.alive}
	if s.spec.Resume != ResumeTimestamp {
		return req
	}
	switch {
	case s.pos.wm > 0:
		req.From = s.pos.wm - s.replay.margin.Milliseconds()
	case s.pos.start > 0:
		req.From = s.pos.start
	case s.pos.liveAt > 0:
		req.From = s.pos.liveAt
	}
	if req.From == 0 {
		return req
	}
	if req.From < 1 {
		req.From = 1 // 0 would mean "live only"
	}
	oldest := s.cfg.now().Add(-s.cfg.window).UnixMilli()
	if req.From < oldest {
		gap := time.Duration(oldest-req.From) * time.Millisecond
		from := req.From
		req.From = oldest
		s.gap(&GapError{Reason: GapClamped, Range: s.rng, From: from, ResumedAt: oldest,
			Detail: fmt.Sprintf("resume point older than the replay window: clamped by %v", gap.Round(time.Millisecond))})
	}
	return req
}

// alive is ConnectRequest.Alive: it moves the progress counter by two, so the
// watchdog sees activity without changing whether the engine is waiting.
func (s *stream) alive() { s.progress.Add(2) }

// noteLiveStart remembers where a live start began: if this connection drops
// before its first event, the next one must replay from here, not skip the
// gap.
func (s *stream) noteLiveStart(req ConnectRequest, c Conn, now time.Time) {
	if s.spec.Resume != ResumeTimestamp || req.From != 0 || s.pos.wm != 0 || s.pos.liveAt != 0 {
		return
	}
	at := now
	if sc, ok := c.(ServerClock); ok {
		if t := sc.ServerTime(); !t.IsZero() {
			at = t
		}
	}
	s.pos.liveAt = max(at.Add(-s.cfg.margin).UnixMilli(), 1)
}

// replayMissed reports a reconnect whose replay began later than asked: an
// event well past the watermark came before any of the already-finished
// events the server should have resent first. The server's window no longer
// reached the resume point; events in between may be missing.
func (s *stream) replayMissed(ts int64) {
	from := s.st.resumedFrom.Load()
	s.gap(&GapError{Reason: GapLateReplay, Range: s.rng, From: from, ResumedAt: ts,
		Detail: fmt.Sprintf("asked to replay from %d, the server resumed at %d", from, ts)})
}

// adaptMargin keeps a stream whose connections are cut more often than the
// replay margin's worth of events from replaying the same duplicates forever.
// A connection that ended inside the replay (its last frame a duplicate, no
// new event and no keep-alive after the duplicates) halves the margin for the
// next request: a livelock would lose everything, a smaller margin risks only
// events more out of order than it, and the change is reported as a possible
// gap. A connection that delivers new events doubles it back, up to the
// configured one. It reports whether it just shrank the margin.
func (s *stream) adaptMargin(ended *connection) bool {
	if s.spec.Resume != ResumeTimestamp {
		return false
	}
	switch {
	case ended.newHere == 0 && ended.lastDup && s.replay.margin > 0:
		s.replay.margin /= 2
		if s.replay.margin < 10*time.Millisecond {
			s.replay.margin = 0
		}
		s.gap(&GapError{Reason: GapMarginReduced, Range: s.rng, From: s.pos.wm - s.replay.margin.Milliseconds(),
			Detail: fmt.Sprintf("connections end inside the replay (%d duplicates, no new event): replay margin reduced to %v", ended.dups, s.replay.margin)})
		return true
	case ended.newHere > 0 && s.replay.margin < s.cfg.margin:
		s.replay.margin = min(s.cfg.margin, max(2*s.replay.margin, 100*time.Millisecond))
	}
	return false
}
