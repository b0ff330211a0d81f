package firehose

import (
	"strconv"
	"strings"
	"time"
)

// GapReason says why events may be missing.
type GapReason string

// The reasons a gap is reported for.
const (
	// GapClamped: the resume point was older than the server's replay
	// window and was moved forward to its edge.
	GapClamped GapReason = "clamped"
	// GapLateReplay: after a reconnect the server resumed later than asked;
	// its window no longer reached the resume point.
	GapLateReplay GapReason = "late_replay"
	// GapMarginReduced: connections kept ending inside the replay, so the
	// replay margin was halved; events more out of order than the new margin
	// may be missed.
	GapMarginReduced GapReason = "margin_reduced"
	// GapNoReplay: a reconnect on a source that cannot replay: whatever was
	// sent while disconnected (Downtime long) is lost.
	GapNoReplay GapReason = "no_replay"
	// GapEvicted: the source's history no longer holds what a gap-fill
	// needed (a stream's capacity was exceeded during an outage).
	GapEvicted GapReason = "evicted"
	// GapFuture: an event or a server clock lay too far in the future to be
	// trusted as a resume point; the resume point was held back.
	GapFuture GapReason = "future"
	// GapSkipped: a record the transport can never deliver (larger than a
	// hard cap) was skipped by resuming past it.
	GapSkipped GapReason = "skipped"
)

// GapError describes a possible gap: which receiver (and stream, for sources
// with several), from when events may be missing, where delivery resumed,
// and why. errors.Is(err, ErrGap) reports true. A gap never ends a stream.
type GapError struct {
	Reason    GapReason
	Range     Range
	Stream    string        // the source's stream (Octave's stream id or path); "" when the source has one
	From      int64         // epoch ms: events after this may be missing (0: unknown)
	ResumedAt int64         // epoch ms: where delivery resumed (0: unknown)
	Downtime  time.Duration // for a reconnect: how long no connection was open
	Detail    string        // what happened, in words
}

func (e *GapError) Error() string {
	var b strings.Builder
	b.WriteString("firehose: possible gap (")
	b.WriteString(string(e.Reason))
	b.WriteString(")")
	if e.Range != (Range{}) {
		b.WriteString(" partitions ")
		b.WriteString(e.Range.String())
	}
	if e.Stream != "" {
		b.WriteString(" stream ")
		b.WriteString(e.Stream)
	}
	if e.From > 0 {
		b.WriteString(" from ")
		b.WriteString(formatMillis(e.From))
	}
	if e.ResumedAt > 0 {
		b.WriteString(" resumed at ")
		b.WriteString(formatMillis(e.ResumedAt))
	}
	if e.Downtime > 0 {
		b.WriteString(" after ")
		b.WriteString(e.Downtime.Round(time.Millisecond).String())
		b.WriteString(" down")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrGap) true.
func (e *GapError) Is(target error) bool { return target == ErrGap }

func formatMillis(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return strconv.FormatInt(ms, 10) + "ms"
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}
