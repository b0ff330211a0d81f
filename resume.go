package firehose

import (
	"errors"
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
	check      bool
	floor      int64
	keepAlives int // keep-alives since the reconnect, before any replayed event
	capped     int // connections in a row ended by ErrHardCap with no new event
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
		if s.pos.floor > 0 && s.pos.wm >= s.pos.floor {
			req.From = max(req.From, s.pos.floor) // the margin never reaches before the start
		}
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
		// The server's clock, unless it runs ahead of ours by more than the
		// skew allowance (a Date in 2100 would skip everything to come).
		if t := sc.ServerTime(); !t.IsZero() {
			at = minTime(t, now.Add(s.cfg.skew))
		}
	}
	s.pos.liveAt = max(at.Add(-s.cfg.margin).UnixMilli(), 1)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// keepAliveInReplay notices a replay answered only by keep-alives: after a
// reconnect with a watermark the server owes at least the finished events
// inside the margin; keep-alives first mean it is not replaying at all.
func (s *stream) keepAliveInReplay() {
	if !s.replay.check {
		return
	}
	s.replay.keepAlives++
	if s.replay.keepAlives < replayKeepAlives {
		return
	}
	s.replay.check = false
	from := s.st.resumedFrom.Load()
	s.gap(&GapError{Reason: GapLateReplay, Range: s.rng, From: from,
		Detail: fmt.Sprintf("asked to replay from %s, the server answered only with %d keep-alives", formatMillis(from), s.replay.keepAlives)})
}

// replayKeepAlives is how many keep-alives before any replayed event mean
// the replay is not coming.
const replayKeepAlives = 2

// replayMissed reports a reconnect whose replay began later than asked: an
// event well past the watermark came before any of the already-finished
// events the server should have resent first. The server's window no longer
// reached the resume point; events in between may be missing.
func (s *stream) replayMissed(ts int64) {
	from := s.st.resumedFrom.Load()
	s.gap(&GapError{Reason: GapLateReplay, Range: s.rng, From: from, ResumedAt: ts,
		Detail: fmt.Sprintf("asked to replay from %d, the server resumed at %d", from, ts)})
}

// hardCap breaks the loop of a frame the transport cannot skip: the first
// time may be bad luck; the second resumes without the replay margin (the
// frame is gone if it was older than the watermark: a GapSkipped); the third
// ends the stream, naming the cause.
func (s *stream) hardCap(ended *connection, err error) error {
	if !errors.Is(err, ErrHardCap) || ended.newHere > 0 {
		s.replay.capped = 0
		return nil
	}
	s.replay.capped++
	switch {
	case s.replay.capped == 2 && s.spec.Resume == ResumeTimestamp && s.replay.margin > 0:
		s.replay.margin = 0
		s.gap(&GapError{Reason: GapSkipped, Range: s.rng, From: s.pos.wm,
			Detail: "a frame above the transport's hard cap keeps ending the connection: resuming past the watermark without a margin"})
	case s.replay.capped >= 2:
		return Fatal(fmt.Errorf("a frame above the transport's hard cap blocks the stream at %s (raise WithMaxEventSize): %w", formatMillis(s.pos.wm), err))
	}
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
